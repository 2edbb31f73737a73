package org.openzone.app

import java.io.File
import java.time.LocalDate
import javax.xml.parsers.DocumentBuilderFactory
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.Strings
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.core.protocolConstants

private val placeholder = Regex("\\{([a-z]+)\\}")

private fun androidDir(): File = File(System.getProperty("openzone.android.dir") ?: "android")

private fun stringNames(file: File): Map<String, String> {
    val doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file)
    val nodes = doc.getElementsByTagName("string")
    return (0 until nodes.length).associate { i ->
        val e = nodes.item(i) as org.w3c.dom.Element
        e.getAttribute("name") to e.textContent
    }
}

val i18nTests: List<HostTest> = listOf(
    "every key is in both languages, not blank, with the same placeholders" to {
        for (key in T.entries) {
            val vi = Strings.table(Language.VI)[key]
            val en = Strings.table(Language.EN)[key]
            assertTrue(!vi.isNullOrBlank(), "vi lacks $key")
            assertTrue(!en.isNullOrBlank(), "en lacks $key")
            assertEquals(
                placeholder.findAll(vi).map { it.value }.toSet(),
                placeholder.findAll(en).map { it.value }.toSet(),
                "placeholders of $key",
            )
        }
        assertEquals(T.entries.size, Strings.table(Language.VI).size, "no stray vi entries")
        assertEquals(T.entries.size, Strings.table(Language.EN).size, "no stray en entries")
    },
    "the protocol's numbers in the texts come from the core" to {
        val c = protocolConstants()
        for (lang in Language.entries) {
            val texts = Texts(lang)
            assertTrue(texts(T.POS_CODE_LABEL).contains("${c.codeDigits}"), texts(T.POS_CODE_LABEL))
            assertTrue(texts(T.EXP_NONE_DETAIL).contains("${c.retentionDays}"), texts(T.EXP_NONE_DETAIL))
            for (key in T.entries) {
                val text = texts(key)
                assertTrue("{retention}" !in text && "{digits}" !in text, "$lang $key: $text")
            }
        }
    },
    "Vietnamese is the default and unknown tags fall back to it" to {
        assertEquals(Language.VI, Language.DEFAULT)
        assertEquals(Language.VI, Language.fromTag(null))
        assertEquals(Language.VI, Language.fromTag("fr"))
        assertEquals(Language.EN, Language.fromTag("en"))
    },
    "placeholders are filled and dates and numbers follow the language" to {
        val vi = Texts(Language.VI)
        val en = Texts(Language.EN)
        assertEquals("Khoảng 12 phút", vi(T.EXP_DAY_MINUTES, "minutes" to 12))
        assertEquals("07/03/2025", vi.date(LocalDate.of(2025, 3, 7)))
        assertEquals("7 Mar 2025", en.date(LocalDate.of(2025, 3, 7)))
        assertEquals("1,5%", Language.VI.percent(0.015))
        assertEquals("1.5%", Language.EN.percent(0.015))
    },
    "the Android strings.xml of vi (values) and en (values-en) have the same names" to {
        val res = File(androidDir(), "app/src/main/res")
        val vi = stringNames(File(res, "values/strings.xml"))
        val en = stringNames(File(res, "values-en/strings.xml"))
        assertTrue(vi.isNotEmpty(), "values/strings.xml has strings")
        assertEquals(vi.keys, en.keys)
        assertTrue(vi.values.all { it.isNotBlank() } && en.values.all { it.isNotBlank() })
    },
)
