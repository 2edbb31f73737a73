package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.Texts
import org.openzone.app.onboarding.Maker
import org.openzone.app.onboarding.OnboardingFlow
import org.openzone.app.onboarding.Step
import org.openzone.app.platform.Permissions

val onboardingTests: List<HostTest> = listOf(
    "the steps follow the Android version" to {
        val s = Step.entries
        assertEquals(
            listOf(Step.WELCOME, Step.PRIVACY, Step.CONSENT, Step.LOCATION, Step.BATTERY, Step.DONE),
            OnboardingFlow(23, "samsung").steps,
        )
        assertEquals(OnboardingFlow(23, "x").steps, OnboardingFlow(30, "x").steps)
        assertEquals(
            listOf(Step.WELCOME, Step.PRIVACY, Step.CONSENT, Step.NEARBY_DEVICES, Step.BATTERY, Step.DONE),
            OnboardingFlow(31, "x").steps,
        )
        assertEquals(s - Step.LOCATION, OnboardingFlow(35, "x").steps)
        val flow = OnboardingFlow(35, "x")
        assertEquals(Step.NEARBY_DEVICES, flow.next(Step.CONSENT))
        assertEquals(Step.DONE, flow.next(Step.DONE))
        assertNull(flow.previous(Step.WELCOME))
    },
    "permission pages ask for what they explain" to {
        val t = Texts(Language.VI)
        assertEquals(
            listOf(Permissions.BLUETOOTH_SCAN, Permissions.BLUETOOTH_ADVERTISE, Permissions.BLUETOOTH_CONNECT),
            OnboardingFlow(33, "x").page(Step.NEARBY_DEVICES, t).permissions,
        )
        assertEquals(3, OnboardingFlow(33, "x").page(Step.NEARBY_DEVICES, t).bullets.size)
        assertTrue(Permissions.ACCESS_FINE_LOCATION in OnboardingFlow(29, "x").page(Step.LOCATION, t).permissions)
        assertEquals(listOf(Permissions.POST_NOTIFICATIONS), OnboardingFlow(33, "x").page(Step.NOTIFICATIONS, t).permissions)
        assertTrue(OnboardingFlow(33, "x").page(Step.CONSENT, t).checkbox != null)
    },
    "every page has words in both languages" to {
        for (sdk in listOf(23, 29, 30, 31, 33, 35)) for (lang in Language.entries) {
            val flow = OnboardingFlow(sdk, "xiaomi")
            for (step in flow.steps) {
                val page = flow.page(step, Texts(lang))
                assertTrue(page.title.isNotBlank() && page.body.isNotBlank() && page.button.isNotBlank(), "$step")
                assertTrue(page.bullets.none { it.contains("{") }, "$step")
            }
        }
    },
    "phone makers that stop background apps get their own guidance" to {
        val cases = mapOf(
            "Xiaomi" to Maker.XIAOMI, "Redmi" to Maker.XIAOMI, "OPPO" to Maker.OPPO, "realme" to Maker.OPPO,
            "OnePlus" to Maker.OPPO, "vivo" to Maker.VIVO, "samsung" to Maker.SAMSUNG, "HUAWEI" to Maker.HUAWEI,
            "HONOR" to Maker.HUAWEI,
        )
        for ((name, maker) in cases) assertEquals(maker, Maker.of(name), name)
        assertNull(Maker.of("Google"))
        val page = OnboardingFlow(33, "OPPO").page(Step.BATTERY, Texts(Language.EN))
        assertEquals("https://dontkillmyapp.com/oppo", page.link)
        assertTrue(page.bullets.first().contains("OPPO"))
        assertEquals("https://dontkillmyapp.com", OnboardingFlow(33, "Google").page(Step.BATTERY, Texts(Language.EN)).link)
    },
)
