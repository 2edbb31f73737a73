// The one activity: onboarding until it is done, then the screens with a bottom bar (QA only in QA mode).
package org.openzone.app

import android.content.Intent
import android.net.Uri
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.Send
import androidx.compose.material.icons.filled.Build
import androidx.compose.material.icons.filled.Home
import androidx.compose.material.icons.filled.Info
import androidx.compose.material.icons.filled.Settings
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.lifecycleScope
import androidx.lifecycle.repeatOnLifecycle
import java.time.LocalDate
import java.time.ZoneOffset
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.openzone.app.exposure.ExposureState
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.onboarding.OnboardingFlow
import org.openzone.app.onboarding.Step
import org.openzone.app.positive.Field
import org.openzone.app.positive.PositiveReportForm
import org.openzone.app.positive.PositiveReportInput
import org.openzone.app.positive.PositiveReporter
import org.openzone.app.positive.Problem
import org.openzone.app.positive.ReportOutcome
import org.openzone.app.positive.Validation
import org.openzone.app.qa.Diagnostics
import org.openzone.app.qa.DiagnosticsContext
import org.openzone.app.qa.QaState
import org.openzone.app.service.OpenZoneService
import org.openzone.app.settings.SettingsState
import org.openzone.app.status.Fix
import org.openzone.app.status.StatusState
import org.openzone.app.system.LanguageSync
import org.openzone.app.ui.ExposureScreen
import org.openzone.app.ui.Fixes
import org.openzone.app.ui.OnboardingScreen
import org.openzone.app.ui.OpenZoneTheme
import org.openzone.app.ui.PositiveReportScreen
import org.openzone.app.ui.QaScreen
import org.openzone.app.ui.SettingsScreen
import org.openzone.app.ui.Snapshot
import org.openzone.app.ui.StatusScreen
import org.openzone.app.ui.UiModel
import org.openzone.app.work.SyncScheduler

class MainActivity : ComponentActivity() {
    private val app get() = application as OpenZoneApp
    private lateinit var model: UiModel
    private lateinit var fixes: Fixes
    private var afterPermissions: (() -> Unit)? = null

    private val permissionLauncher = registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { results ->
        val denied = results.filterValues { !it }.keys
        // Denied twice, Android stops asking: the app's settings page is the way left.
        if (denied.isNotEmpty() && denied.none { shouldShowRequestPermissionRationale(it) }) fixes.openAppSettings()
        if (results.values.any { it } && OpenZoneService.shouldRun(app)) OpenZoneService.start(this)
        afterPermissions?.invoke()
        afterPermissions = null
        model.refresh()
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        model = UiModel(app, lifecycleScope)
        fixes = Fixes(this) { permissions -> permissionLauncher.launch(permissions.toTypedArray()) }
        lifecycleScope.launch { repeatOnLifecycle(Lifecycle.State.STARTED) { model.refreshLoop() } }
        // Opening the app brings protection back after a force stop (which also cancels START_STICKY).
        if (OpenZoneService.shouldRun(app)) {
            OpenZoneService.start(this)
            SyncScheduler.schedule(app)
        }
        val initial = intent.getStringExtra(EXTRA_SCREEN)
        setContent { OpenZoneTheme { Root(initial) } }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        setIntent(intent)
    }

    @Composable
    private fun Root(initial: String?) {
        val snapshot by model.snapshot.collectAsStateWithLifecycle()
        val snap = snapshot
        if (snap == null) {
            Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { CircularProgressIndicator() }
            return
        }
        val texts = Texts(snap.language)
        if (!snap.onboardingDone) Onboarding(texts) else Main(snap, texts, initial)
    }

    @Composable
    private fun Onboarding(texts: Texts) {
        val flow = remember { OnboardingFlow(Build.VERSION.SDK_INT, Build.MANUFACTURER) }
        var step by rememberSaveable { mutableStateOf(Step.WELCOME) }
        var consent by rememberSaveable { mutableStateOf(app.prefs.consentGiven) }
        val page = flow.page(step, texts)
        fun next() {
            val following = flow.next(step)
            if (step == Step.DONE) {
                app.prefs.onboardingDone = true
                SyncScheduler.schedule(app)
                if (OpenZoneService.shouldRun(app)) OpenZoneService.start(this)
                model.refresh()
            } else {
                step = following
            }
        }
        val back = flow.previous(step)
        BackHandler(enabled = back != null) { back?.let { step = it } }
        Scaffold { padding ->
            Box(Modifier.padding(padding)) {
                OnboardingScreen(
                    page = page,
                    checked = consent,
                    onChecked = { consent = it },
                    onNext = {
                        when {
                            step == Step.CONSENT -> { app.prefs.consentGiven = consent; next() }
                            page.permissions.isNotEmpty() -> {
                                afterPermissions = { next() }
                                permissionLauncher.launch(page.permissions.toTypedArray())
                            }
                            step == Step.BATTERY -> { fixes.ignoreBatteryOptimization(); next() }
                            else -> next()
                        }
                    },
                    onBack = back?.let { { step = it } },
                    onLink = { fixes.open(Intent(Intent.ACTION_VIEW, Uri.parse(it))) },
                    texts = texts,
                )
            }
        }
    }

    private enum class Screen(val label: T, val icon: ImageVector) {
        STATUS(T.NAV_STATUS, Icons.Filled.Home),
        EXPOSURE(T.NAV_EXPOSURE, Icons.Filled.Info),
        POSITIVE(T.NAV_POSITIVE, Icons.AutoMirrored.Filled.Send),
        SETTINGS(T.NAV_SETTINGS, Icons.Filled.Settings),
        QA(T.NAV_QA, Icons.Filled.Build),
    }

    @Composable
    private fun Main(snap: Snapshot, texts: Texts, initial: String?) {
        var screen by rememberSaveable { mutableStateOf(if (initial == SCREEN_EXPOSURE) Screen.EXPOSURE else Screen.STATUS) }
        val screens = Screen.entries.filter { it != Screen.QA || snap.qaMode }
        Scaffold(
            bottomBar = {
                NavigationBar {
                    screens.forEach { s ->
                        NavigationBarItem(
                            selected = screen == s,
                            onClick = { screen = s },
                            icon = { Icon(s.icon, contentDescription = null) },
                            label = { Text(texts(s.label)) },
                        )
                    }
                }
            },
        ) { padding ->
            Box(Modifier.padding(padding)) {
                when (screen) {
                    Screen.STATUS -> StatusScreen(
                        StatusState.of(snap.state, snap.facts, snap.counters.sightingsToday, snap.lastSync, texts),
                        onFix = { fix ->
                            // "Turn on protection" also undoes a pause chosen in Settings.
                            if (fix == Fix.START_PROTECTION) app.prefs.protectionPaused = false
                            fixes.handle(fix)
                        },
                    )
                    Screen.EXPOSURE -> ExposureScreen(
                        ExposureState.of(snap.days, LocalDate.now(ZoneOffset.UTC), AppConfig.contacts, texts),
                        texts,
                        onCall = { fixes.open(Intent(Intent.ACTION_DIAL, Uri.parse("tel:${it.filterNot(Char::isWhitespace)}"))) },
                    )
                    Screen.POSITIVE -> Positive(texts)
                    Screen.SETTINGS -> Settings(texts)
                    Screen.QA -> QaScreen(
                        QaState.of(snap.gattValue, snap.live, snap.counters, snap.duty, snap.radio, System.currentTimeMillis(), texts),
                        texts,
                        onExport = { exportDiagnostics(snap) },
                    )
                }
            }
        }
    }

    @Composable
    private fun Positive(texts: Texts) {
        val scope = rememberCoroutineScope()
        var input by remember { mutableStateOf(PositiveReportInput()) }
        var problems by remember { mutableStateOf(emptyMap<Field, Problem>()) }
        var sending by remember { mutableStateOf(false) }
        var message by remember { mutableStateOf<String?>(null) }
        val today = LocalDate.now()
        PositiveReportScreen(input, problems, today, sending, message, texts, onChange = { input = it }) {
            when (val v = PositiveReportForm.validate(input, today)) {
                is Validation.Invalid -> problems = v.problems
                is Validation.Valid -> {
                    problems = emptyMap()
                    sending = true
                    scope.launch {
                        val outcome = withContext(Dispatchers.Default) {
                            PositiveReporter.send(app.phone, v.submission, texts, AppConfig.keyServerUrl != null)
                        }
                        sending = false
                        message = when (outcome) {
                            is ReportOutcome.Sent -> outcome.message.also { input = PositiveReportInput() }
                            is ReportOutcome.Failed -> outcome.message
                        }
                    }
                }
            }
        }
    }

    @Composable
    private fun Settings(texts: Texts) {
        val settings = remember { SettingsState(app.prefs) }
        var ui by remember { mutableStateOf(settings.ui()) }
        val scope = rememberCoroutineScope()
        fun update() {
            ui = settings.ui()
            model.refresh()
        }
        SettingsScreen(
            ui = ui,
            texts = texts,
            onLanguage = { language: Language ->
                LanguageSync.apply(this, app.prefs, language)
                update()
            },
            onProtection = { on ->
                settings.setProtection(on)
                if (on) OpenZoneService.start(this) else OpenZoneService.stop(this)
                update()
            },
            onQa = { on ->
                scope.launch {
                    withContext(Dispatchers.Default) { settings.setQaMode(app.phone, on) }
                    update()
                }
            },
            onDeleteRequest = { settings.requestDeletion(); update() },
            onDeleteConfirm = {
                scope.launch {
                    withContext(Dispatchers.Default) { settings.confirmDeletion(app.phone, app.dataKeys) }
                    update()
                }
            },
            onDeleteCancel = { settings.cancelDeletion(); update() },
        )
    }

    /** Shares the diagnostics JSON as text (no file provider needed; the file is a few hundred bytes). */
    private fun exportDiagnostics(snap: Snapshot) {
        val json = Diagnostics.json(
            DiagnosticsContext(
                appVersion = BuildConfig.VERSION_NAME,
                sdkInt = Build.VERSION.SDK_INT,
                manufacturer = Build.MANUFACTURER,
                model = Build.MODEL,
                abi = UiModel.abi,
                timeIso = java.time.Instant.now().toString(),
            ),
            snap.state, snap.counters, snap.duty, snap.radio, snap.live.size,
        )
        val send = Intent(Intent.ACTION_SEND).apply {
            type = "application/json"
            putExtra(Intent.EXTRA_SUBJECT, "OpenZone diagnostics")
            putExtra(Intent.EXTRA_TEXT, json)
        }
        fixes.open(Intent.createChooser(send, null))
    }

    companion object {
        const val EXTRA_SCREEN = "screen"
        const val SCREEN_EXPOSURE = "exposure"
    }
}
