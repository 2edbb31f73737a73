package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.openzone.app.i18n.Language
import org.openzone.app.prefs.AppPreferences
import org.openzone.app.prefs.InMemoryKeyValueStore
import org.openzone.app.settings.Deletion
import org.openzone.app.settings.SettingsState

val settingsTests: List<HostTest> = listOf(
    "the language is Vietnamese until English is chosen, and is kept" to {
        val prefs = AppPreferences(InMemoryKeyValueStore())
        val s = SettingsState(prefs)
        assertEquals(Language.VI, s.ui().language)
        s.setLanguage(Language.EN)
        assertEquals("en", prefs.languageTag)
        assertEquals(Language.EN, SettingsState(prefs).ui().language)
        assertEquals(listOf("Tiếng Việt", "English"), s.ui().languages.map { it.second })
    },
    "data is deleted only after confirming, and the shell forgets the exposure too" to {
        val prefs = AppPreferences(InMemoryKeyValueStore())
        prefs.lastSyncDate = "2025-11-20"
        prefs.notifiedAtRiskDays = setOf("2025-11-18")
        val e = engine(tempDir(), RecordingPlatform())
        e.start()
        val s = SettingsState(prefs)
        s.confirmDeletion(e)
        assertEquals(Deletion.Idle, s.deletion, "no deletion without the question")
        s.requestDeletion()
        assertTrue(s.ui().deletionText!!.isNotBlank())
        s.cancelDeletion()
        assertEquals(Deletion.Idle, s.deletion)
        val before = e.currentGattValue()!!.toList()
        s.requestDeletion()
        s.confirmDeletion(e)
        assertEquals(Deletion.Done, s.deletion)
        assertEquals(null, prefs.lastSyncDate)
        assertEquals(emptySet(), prefs.notifiedAtRiskDays)
        assertTrue(e.exposureDays().isEmpty())
        assertTrue(before != e.currentGattValue()!!.toList(), "a fresh identifier after deletion")
        e.stop()
        e.destroy()
    },
    "protection and QA mode are remembered and QA mode reaches the engine" to {
        val prefs = AppPreferences(InMemoryKeyValueStore())
        val s = SettingsState(prefs)
        s.setProtection(false)
        assertEquals(false, s.ui().protectionOn)
        val e = engine(tempDir(), RecordingPlatform())
        e.start()
        s.setQaMode(e, true)
        assertEquals(true, s.ui().qaMode)
        assertEquals(org.openzone.core.EngineState.Running(org.openzone.core.ScanModeKind.QA), e.state())
        e.stop()
        e.destroy()
    },
)
