// What a deployment sets at build time (gradle.properties / -P): the key server, the export-signing key,
// the key server's upload sealing keys, the school's health contact. See android/README.md.
package org.openzone.app

import android.os.Build
import java.io.File
import org.openzone.app.exposure.HealthContacts
import org.openzone.core.DeviceModel
import org.openzone.core.ExportPublicKey
import org.openzone.core.IdentifierScheme
import org.openzone.core.PhoneSettings

object AppConfig {
    val keyServerUrl: String? = BuildConfig.KEY_SERVER_URL.ifBlank { null }

    val exportKeys: List<ExportPublicKey> =
        if (BuildConfig.EXPORT_KEY_PEM.isBlank()) {
            emptyList()
        } else {
            listOf(ExportPublicKey(BuildConfig.EXPORT_KEY_ID, BuildConfig.EXPORT_KEY_VERSION, BuildConfig.EXPORT_KEY_PEM))
        }

    /** The key server's X25519 upload sealing keys (base64), comma-separated: the current one, then the next
     *  during a rotation. None: the key the server's `/v1/config` announces is used. */
    val uploadSealingKeys: List<String> =
        BuildConfig.UPLOAD_SEALING_KEYS.split(',').map(String::trim).filter(String::isNotEmpty)

    val contacts = HealthContacts(schoolHealthOfficer = BuildConfig.SCHOOL_HEALTH_PHONE.ifBlank { null })

    fun phoneSettings(storeDir: File, dataKey: ByteArray) = PhoneSettings(
        dataDir = storeDir.path,
        dataKey = dataKey,
        scheme = IdentifierScheme.EN_V1,
        // The core looks the phone up in its calibration table (TX power, RSSI correction).
        device = DeviceModel(manufacturer = Build.MANUFACTURER, device = Build.DEVICE, model = Build.MODEL),
        riskConfigJson = null,
        keyServerUrl = keyServerUrl,
        exportKeys = exportKeys,
        uploadSealingKeys = uploadSealingKeys,
    )
}
