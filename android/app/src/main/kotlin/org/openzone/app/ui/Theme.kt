package org.openzone.app.ui

import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color

private val Brand = Color(0xFF1B6E5A)
private val Alert = Color(0xFFB3261E)

/** Material 3 with the brand colour; no dynamic colour, so the status screen looks the same on every phone
 *  (green means protected, red means act). */
@Composable
fun OpenZoneTheme(content: @Composable () -> Unit) {
    val colors = if (isSystemInDarkTheme()) {
        darkColorScheme(primary = Color(0xFF7FD8BE), error = Color(0xFFF2B8B5))
    } else {
        lightColorScheme(primary = Brand, error = Alert)
    }
    MaterialTheme(colorScheme = colors, content = content)
}
