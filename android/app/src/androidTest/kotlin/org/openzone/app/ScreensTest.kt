// Compose UI tests: the screens render the shared states and call back; no engine, no radio.
package org.openzone.app

import androidx.compose.ui.test.assertIsDisplayed
import androidx.compose.ui.test.assertIsEnabled
import androidx.compose.ui.test.assertIsNotEnabled
import androidx.compose.ui.test.assertTextContains
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.onNodeWithText
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextInput
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.test.ext.junit.runners.AndroidJUnit4
import java.time.LocalDate
import org.junit.Assert.assertEquals
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.app.exposure.ExposureState
import org.openzone.app.exposure.HealthContacts
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.onboarding.OnboardingFlow
import org.openzone.app.onboarding.Step
import org.openzone.app.platform.Permissions
import org.openzone.app.platform.PlatformFacts
import org.openzone.app.positive.Field
import org.openzone.app.positive.PositiveReportForm
import org.openzone.app.positive.PositiveReportInput
import org.openzone.app.positive.Problem
import org.openzone.app.positive.Validation
import org.openzone.app.prefs.AppPreferences
import org.openzone.app.prefs.InMemoryKeyValueStore
import org.openzone.app.settings.SettingsState
import org.openzone.app.status.Fix
import org.openzone.app.status.StatusState
import org.openzone.app.ui.ExposureScreen
import org.openzone.app.ui.OnboardingScreen
import org.openzone.app.ui.OpenZoneTheme
import org.openzone.app.ui.PositiveReportScreen
import org.openzone.app.ui.SettingsScreen
import org.openzone.app.ui.StatusScreen
import org.openzone.app.ui.Tags
import org.openzone.core.DayExposure
import org.openzone.core.EngineState
import org.openzone.core.Proximity

@RunWith(AndroidJUnit4::class)
class ScreensTest {
    @get:Rule
    val compose = createComposeRule()

    private val vi = Texts(Language.VI)
    private val facts = PlatformFacts(33, true, Permissions.radio(33).toSet(), batteryOptimizationIgnored = true)

    @Test
    fun statusShowsTheOneThingToFixAndCallsBack() {
        var fixed: Fix? = null
        compose.setContent {
            OpenZoneTheme { StatusScreen(StatusState.of(EngineState.BluetoothOff, facts, 0uL, null, vi)) { fixed = it } }
        }
        compose.onNodeWithTag(Tags.STATUS_HEADLINE).assertTextContains(vi(T.STATUS_NOT_PROTECTED))
        compose.onNodeWithTag(Tags.STATUS_FIX).assertTextContains(vi(T.FIX_BLUETOOTH)).performClick()
        assertEquals(Fix.TURN_ON_BLUETOOTH, fixed)
    }

    @Test
    fun exposureAtRiskSaysWhatToDoAndWhomToCall() {
        val today = LocalDate.now()
        val days = listOf(DayExposure(today.minusDays(2).toString(), true, 25.0, Proximity.NEAR, false))
        var called: String? = null
        compose.setContent {
            OpenZoneTheme {
                ExposureScreen(ExposureState.of(days, today, HealthContacts(), vi), vi) { called = it }
            }
        }
        compose.onNodeWithTag(Tags.EXPOSURE_HEADLINE).assertTextContains(vi(T.EXP_AT_RISK_HEADLINE))
        compose.onNodeWithText("${vi(T.CONTACT_HOTLINE)}: 1900 9095").performClick()
        assertEquals("1900 9095", called)
    }

    @Test
    fun positiveReportShowsTheFormsProblems() {
        val today = LocalDate.now()
        compose.setContent {
            var input by androidx.compose.runtime.remember { mutableStateOf(PositiveReportInput()) }
            var problems by androidx.compose.runtime.remember { mutableStateOf(emptyMap<Field, Problem>()) }
            OpenZoneTheme {
                PositiveReportScreen(input, problems, today, false, null, vi, onChange = { input = it }) {
                    problems = (PositiveReportForm.validate(input, today) as? Validation.Invalid)?.problems.orEmpty()
                }
            }
        }
        compose.onNodeWithTag(Tags.CODE).performTextInput("1234")
        compose.onNodeWithTag(Tags.SUBMIT).performClick()
        compose.onNodeWithText(vi(T.ERR_CODE_FORMAT)).assertIsDisplayed()
        compose.onNodeWithText(vi(T.ERR_CONSENT)).assertIsDisplayed()
    }

    @Test
    fun consentGatesOnboarding() {
        val flow = OnboardingFlow(33, "samsung")
        compose.setContent {
            var checked by androidx.compose.runtime.remember { mutableStateOf(false) }
            OpenZoneTheme {
                OnboardingScreen(flow.page(Step.CONSENT, vi), checked, { checked = it }, {}, null, {}, vi)
            }
        }
        compose.onNodeWithTag(Tags.ONBOARDING_NEXT).assertIsNotEnabled()
        compose.onNodeWithTag(Tags.ONBOARDING_CHECK).performClick()
        compose.onNodeWithTag(Tags.ONBOARDING_NEXT).assertIsEnabled()
    }

    @Test
    fun deletingDataAsksFirst() {
        val settings = SettingsState(AppPreferences(InMemoryKeyValueStore()))
        compose.setContent {
            var ui by androidx.compose.runtime.remember { mutableStateOf(settings.ui()) }
            OpenZoneTheme {
                SettingsScreen(
                    ui, vi, {}, {}, {},
                    onDeleteRequest = { settings.requestDeletion(); ui = settings.ui() },
                    onDeleteConfirm = {},
                    onDeleteCancel = { settings.cancelDeletion(); ui = settings.ui() },
                )
            }
        }
        compose.onNodeWithTag(Tags.DELETE).performClick()
        compose.onNodeWithText(vi(T.SET_DELETE_CONFIRM)).assertIsDisplayed()
        compose.onNodeWithTag(Tags.DELETE_CONFIRM).assertIsDisplayed()
    }
}
