// What the on-device tests share: a phone's settings for this device, its store in a fresh cache folder.
package org.openzone.app

import android.content.Context
import android.os.Build
import java.io.File
import org.openzone.core.DeviceModel
import org.openzone.core.IdentifierScheme
import org.openzone.core.PhoneSettings

/** Settings of a phone on this device without a key server: the store in `cacheDir/<name>-<time>`, sealed
 *  under 32 bytes of [keyByte]. */
fun deviceSettings(context: Context, name: String, keyByte: Byte) = PhoneSettings(
    dataDir = File(context.cacheDir, "$name-${System.nanoTime()}").path,
    dataKey = ByteArray(32) { keyByte },
    scheme = IdentifierScheme.EN_V1,
    device = DeviceModel(Build.MANUFACTURER, Build.DEVICE, Build.MODEL),
    riskConfigJson = null,
    keyServerUrl = null,
    exportKeys = emptyList(),
    uploadSealingKeys = emptyList(),
)
