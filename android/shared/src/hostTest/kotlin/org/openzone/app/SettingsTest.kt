package org.openzone.app

import java.io.File
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.openzone.app.i18n.Language
import org.openzone.app.keys.DataKey
import org.openzone.app.keys.DataKeyStore
import org.openzone.app.prefs.AppPreferences
import org.openzone.app.prefs.InMemoryKeyValueStore
import org.openzone.app.settings.Deletion
import org.openzone.app.settings.SettingsState
import org.openzone.core.OpenZoneException
import org.openzone.core.OpenZonePhone

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
    "data is deleted only after confirming, under a new data key, and the shell forgets the exposure too" to {
        val prefs = AppPreferences(InMemoryKeyValueStore())
        prefs.lastSyncDate = "2025-11-20"
        val dir = tempDir()
        val storeDir = File(dir, "store")
        val keys = DataKeyStore(File(dir, "data-key.bin"), SoftwareWrapper())
        val oldKey = keys.load().bytes
        val platform = RecordingPlatform()
        val e = OpenZonePhone(settings(storeDir, key = oldKey), platform, null, null)
        e.start()
        val s = SettingsState(prefs)
        s.confirmDeletion(e, keys)
        assertEquals(Deletion.Idle, s.deletion, "no deletion without the question")
        s.requestDeletion()
        assertTrue(s.ui().deletionText!!.isNotBlank())
        s.cancelDeletion()
        assertEquals(Deletion.Idle, s.deletion)
        val before = e.currentGattValue()!!.toList()
        s.requestDeletion()
        s.confirmDeletion(e, keys)
        assertEquals(Deletion.Done, s.deletion)
        assertEquals(null, prefs.lastSyncDate)
        assertTrue(e.exposureDays().isEmpty())
        assertTrue(before != e.currentGattValue()!!.toList(), "a fresh identifier after deletion")
        e.stop()
        e.destroy()
        // The store is sealed under the key now on file; the old key no longer opens it.
        val newKey = keys.load()
        assertTrue(newKey is DataKey.Existing && !newKey.bytes.contentEquals(oldKey))
        assertFailsWith<OpenZoneException.WrongDataKey> {
            OpenZonePhone(settings(storeDir, key = oldKey), platform, null, null)
        }
        OpenZonePhone(settings(storeDir, key = newKey.bytes), platform, null, null).destroy()
    },
    "protection and QA mode are remembered and QA mode reaches the radio" to {
        val prefs = AppPreferences(InMemoryKeyValueStore())
        val s = SettingsState(prefs)
        s.setProtection(false)
        assertEquals(false, s.ui().protectionOn)
        val e = startedPhone()
        s.setQaMode(e, true)
        assertEquals(true, s.ui().qaMode)
        assertEquals(org.openzone.core.EngineState.Running(org.openzone.core.ScanModeKind.QA), e.state())
        e.stop()
        e.destroy()
    },
)
