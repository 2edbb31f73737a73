// The screens, each a function of a plain state object from the shared module and callbacks: they hold no
// logic (the states are tested on the host JVM) and render the same in Compose UI tests without a phone.
package org.openzone.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Call
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.Checkbox
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import java.time.LocalDate
import org.openzone.app.exposure.ExposureUi
import org.openzone.app.exposure.RiskLevel
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.onboarding.Page
import org.openzone.app.positive.Field
import org.openzone.app.positive.PositiveReportForm
import org.openzone.app.positive.PositiveReportInput
import org.openzone.app.positive.Problem
import org.openzone.app.qa.QaUi
import org.openzone.app.settings.Deletion
import org.openzone.app.settings.SettingsUi
import org.openzone.app.status.Fix
import org.openzone.app.status.StatusUi

/** Test tags, shared with the Compose UI tests. */
object Tags {
    const val STATUS_HEADLINE = "status-headline"
    const val STATUS_FIX = "status-fix"
    const val STATUS_ADVICE = "status-advice"
    const val EXPOSURE_HEADLINE = "exposure-headline"
    const val CODE = "positive-code"
    const val ONSET = "positive-onset"
    const val NO_SYMPTOMS = "positive-no-symptoms"
    const val CONSENT = "positive-consent"
    const val SUBMIT = "positive-submit"
    const val MESSAGE = "positive-message"
    const val ONBOARDING_CHECK = "onboarding-check"
    const val ONBOARDING_NEXT = "onboarding-next"
    const val DELETE = "settings-delete"
    const val DELETE_CONFIRM = "settings-delete-confirm"
    const val QA_EXPORT = "qa-export"
}

@Composable
private fun ScreenColumn(content: @Composable () -> Unit) {
    Column(
        Modifier.fillMaxWidth().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) { content() }
}

@Composable
fun OnboardingScreen(
    page: Page,
    checked: Boolean,
    onChecked: (Boolean) -> Unit,
    onNext: () -> Unit,
    onBack: (() -> Unit)?,
    onLink: (String) -> Unit,
    texts: Texts,
) {
    ScreenColumn {
        Text(page.title, style = MaterialTheme.typography.headlineSmall)
        Text(page.body, style = MaterialTheme.typography.bodyLarge)
        page.bullets.forEach { Text("• $it", style = MaterialTheme.typography.bodyMedium) }
        page.link?.let { link -> TextButton(onClick = { onLink(link) }) { Text(link) } }
        page.checkbox?.let { label ->
            Row(verticalAlignment = Alignment.CenterVertically) {
                Checkbox(checked, onChecked, Modifier.testTag(Tags.ONBOARDING_CHECK))
                Text(label)
            }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            onBack?.let { OutlinedButton(onClick = it) { Text(texts(T.BACK)) } }
            Button(
                onClick = onNext,
                enabled = page.checkbox == null || checked,
                modifier = Modifier.testTag(Tags.ONBOARDING_NEXT),
            ) { Text(page.button) }
        }
    }
}

@Composable
fun StatusScreen(ui: StatusUi, onFix: (Fix) -> Unit) {
    ScreenColumn {
        val color = if (ui.protected) MaterialTheme.colorScheme.primaryContainer else MaterialTheme.colorScheme.errorContainer
        Card(colors = CardDefaults.cardColors(containerColor = color), modifier = Modifier.fillMaxWidth()) {
            Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                Text(ui.headline, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.testTag(Tags.STATUS_HEADLINE))
                Text(ui.detail)
                // Locals: no smart casts on another module's properties.
                val fix = ui.fix
                val fixLabel = ui.fixLabel
                if (fix != null && fixLabel != null) {
                    Button(onClick = { onFix(fix) }, modifier = Modifier.testTag(Tags.STATUS_FIX)) { Text(fixLabel) }
                }
            }
        }
        val advice = ui.advice
        val adviceFix = ui.adviceFix
        val adviceLabel = ui.adviceLabel
        if (advice != null && adviceFix != null && adviceLabel != null) {
            Card(Modifier.fillMaxWidth()) {
                Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                    Text(advice)
                    OutlinedButton(onClick = { onFix(adviceFix) }, modifier = Modifier.testTag(Tags.STATUS_ADVICE)) {
                        Text(adviceLabel)
                    }
                }
            }
        }
        Text(ui.lastSync, style = MaterialTheme.typography.bodySmall)
    }
}

@Composable
fun ExposureScreen(ui: ExposureUi, texts: Texts, onCall: (String) -> Unit) {
    ScreenColumn {
        val color = if (ui.level == RiskLevel.AT_RISK) MaterialTheme.colorScheme.errorContainer
        else MaterialTheme.colorScheme.primaryContainer
        Card(colors = CardDefaults.cardColors(containerColor = color), modifier = Modifier.fillMaxWidth()) {
            Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                Text(ui.headline, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.testTag(Tags.EXPOSURE_HEADLINE))
                Text(ui.detail)
            }
        }
        ui.days.forEach { day ->
            Column {
                Text("${day.dateText} · ${day.riskText}", style = MaterialTheme.typography.titleMedium)
                Text("${day.minutesText} · ${day.closenessText}")
                day.estimatedNote?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
            }
            HorizontalDivider()
        }
        Text(texts(T.EXP_NEXT_TITLE), style = MaterialTheme.typography.titleMedium)
        ui.nextSteps.forEach { Text("• $it") }
        Text(texts(T.EXP_WHO_TO_CALL), style = MaterialTheme.typography.titleMedium)
        ui.contacts.forEach { contact ->
            OutlinedButton(onClick = { onCall(contact.phone) }, modifier = Modifier.fillMaxWidth()) {
                Icon(Icons.Filled.Call, contentDescription = null)
                Spacer(Modifier.padding(4.dp))
                Text("${contact.label}: ${contact.phone}")
            }
        }
    }
}

@Composable
fun PositiveReportScreen(
    input: PositiveReportInput,
    problems: Map<Field, Problem>,
    today: LocalDate,
    sending: Boolean,
    message: String?,
    texts: Texts,
    onChange: (PositiveReportInput) -> Unit,
    onSubmit: () -> Unit,
) {
    var datesOpen by remember { mutableStateOf(false) }
    val codeProblem = problems[Field.CODE]
    ScreenColumn {
        Text(texts(T.POS_TITLE), style = MaterialTheme.typography.headlineSmall)
        Text(texts(T.POS_INTRO))
        OutlinedTextField(
            value = input.code,
            onValueChange = { onChange(input.copy(code = it.take(PositiveReportForm.MAX_INPUT_LENGTH))) },
            label = { Text(texts(T.POS_CODE_LABEL)) },
            isError = Field.CODE in problems,
            supportingText = codeProblem?.let { p -> @Composable { Text(PositiveReportForm.message(p, texts)) } },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword),
            singleLine = true,
            modifier = Modifier.fillMaxWidth().testTag(Tags.CODE),
        )
        Row(verticalAlignment = Alignment.CenterVertically) {
            Checkbox(input.noSymptoms, { onChange(input.copy(noSymptoms = it)) }, Modifier.testTag(Tags.NO_SYMPTOMS))
            Text(texts(T.POS_NO_SYMPTOMS))
        }
        if (!input.noSymptoms) {
            // The last 15 days only: the form's own range, no calendar to scroll.
            OutlinedButton(onClick = { datesOpen = true }, modifier = Modifier.testTag(Tags.ONSET)) {
                Text("${texts(T.POS_ONSET_LABEL)}: ${input.onsetDate?.let(texts::date) ?: "—"}")
            }
            DropdownMenu(expanded = datesOpen, onDismissRequest = { datesOpen = false }) {
                (0L..PositiveReportForm.MAX_ONSET_DAYS).map(today::minusDays).forEach { date ->
                    DropdownMenuItem(
                        text = { Text(texts.date(date)) },
                        onClick = {
                            onChange(input.copy(onsetDate = date))
                            datesOpen = false
                        },
                    )
                }
            }
            problems[Field.ONSET_DATE]?.let {
                Text(PositiveReportForm.message(it, texts), color = MaterialTheme.colorScheme.error)
            }
        }
        Row(verticalAlignment = Alignment.CenterVertically) {
            Checkbox(input.consent, { onChange(input.copy(consent = it)) }, Modifier.testTag(Tags.CONSENT))
            Text(texts(T.POS_CONSENT))
        }
        problems[Field.CONSENT]?.let { Text(PositiveReportForm.message(it, texts), color = MaterialTheme.colorScheme.error) }
        Button(onClick = onSubmit, enabled = !sending, modifier = Modifier.testTag(Tags.SUBMIT)) {
            Text(if (sending) texts(T.POS_SENDING) else texts(T.POS_SUBMIT))
        }
        message?.let { Text(it, modifier = Modifier.testTag(Tags.MESSAGE)) }
    }
}

@Composable
fun SettingsScreen(
    ui: SettingsUi,
    texts: Texts,
    onLanguage: (Language) -> Unit,
    onProtection: (Boolean) -> Unit,
    onQa: (Boolean) -> Unit,
    onDeleteRequest: () -> Unit,
    onDeleteConfirm: () -> Unit,
    onDeleteCancel: () -> Unit,
) {
    ScreenColumn {
        Text(texts(T.SET_LANGUAGE), style = MaterialTheme.typography.titleMedium)
        ui.languages.forEach { (language, name) ->
            Row(verticalAlignment = Alignment.CenterVertically) {
                RadioButton(selected = ui.language == language, onClick = { onLanguage(language) })
                Text(name)
            }
        }
        HorizontalDivider()
        Row(verticalAlignment = Alignment.CenterVertically) {
            Column(Modifier.weight(1f)) {
                Text(texts(T.SET_PROTECTION), style = MaterialTheme.typography.titleMedium)
                Text(texts(T.SET_PROTECTION_DETAIL), style = MaterialTheme.typography.bodySmall)
            }
            Switch(ui.protectionOn, onProtection)
        }
        Row(verticalAlignment = Alignment.CenterVertically) {
            Column(Modifier.weight(1f)) {
                Text(texts(T.SET_QA), style = MaterialTheme.typography.titleMedium)
                Text(texts(T.SET_QA_DETAIL), style = MaterialTheme.typography.bodySmall)
            }
            Switch(ui.qaMode, onQa)
        }
        HorizontalDivider()
        OutlinedButton(onClick = onDeleteRequest, modifier = Modifier.testTag(Tags.DELETE)) { Text(texts(T.SET_DELETE)) }
        when (ui.deletion) {
            Deletion.Confirming -> AlertDialog(
                onDismissRequest = onDeleteCancel,
                text = { Text(ui.deletionText.orEmpty()) },
                confirmButton = {
                    TextButton(onClick = onDeleteConfirm, modifier = Modifier.testTag(Tags.DELETE_CONFIRM)) {
                        Text(texts(T.SET_DELETE_YES))
                    }
                },
                dismissButton = { TextButton(onClick = onDeleteCancel) { Text(texts(T.CANCEL)) } },
            )
            Deletion.Done, is Deletion.Failed -> Text(ui.deletionText.orEmpty())
            Deletion.Idle -> {}
        }
    }
}

@Composable
fun QaScreen(ui: QaUi, texts: Texts, onExport: () -> Unit) {
    ScreenColumn {
        Text(texts(T.QA_IDENTIFIER), style = MaterialTheme.typography.titleMedium)
        Text(ui.identifier, fontFamily = FontFamily.Monospace)
        Text(ui.counters)
        Text(ui.radio, style = MaterialTheme.typography.bodySmall)
        Text(texts(T.QA_DUTY), style = MaterialTheme.typography.titleMedium)
        ui.duty.forEach { Text(it) }
        Button(onClick = onExport, modifier = Modifier.testTag(Tags.QA_EXPORT)) { Text(texts(T.QA_EXPORT)) }
        Text(texts(T.QA_LIVE), style = MaterialTheme.typography.titleMedium)
        Text(ui.attenuationNote, style = MaterialTheme.typography.bodySmall)
        ui.emptyText?.let { Text(it) }
        ui.rows.forEach { row ->
            Column {
                Text(row.address, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.bodySmall)
                Text(row.text)
            }
        }
        Spacer(Modifier.height(24.dp))
    }
}
