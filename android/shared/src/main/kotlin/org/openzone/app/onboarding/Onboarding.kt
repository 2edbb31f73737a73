// Onboarding: what the app does, what it does and does not collect, consent, then the permissions this
// Android version needs, each with its reason, then battery optimisation with guidance for the phone's
// maker. The steps depend on the Android version: Nearby devices on 12+, location on 11 and older,
// notifications on 13+.
package org.openzone.app.onboarding

import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.platform.Permissions
import org.openzone.app.platform.Sdk

/** The steps, in order. */
enum class Step { WELCOME, PRIVACY, CONSENT, NEARBY_DEVICES, LOCATION, NOTIFICATIONS, BATTERY, DONE }

/** One page, ready to show. */
data class Page(
    val step: Step,
    val title: String,
    val body: String,
    /** Bullet points under the body. */
    val bullets: List<String> = emptyList(),
    /** Android permissions the page's button requests (empty: the button continues). */
    val permissions: List<String> = emptyList(),
    /** A checkbox the user must tick before continuing (consent). */
    val checkbox: String? = null,
    val button: String,
    /** A link for the user's phone maker (battery step). */
    val link: String? = null,
)

/** Phone makers known to stop background apps, with their guidance; https://dontkillmyapp.com/ documents
 *  each. Matched on `Build.MANUFACTURER`, lower case. */
enum class Maker(val text: T, val slug: String, val names: Set<String>) {
    XIAOMI(T.GUIDE_XIAOMI, "xiaomi", setOf("xiaomi", "redmi", "poco")),
    OPPO(T.GUIDE_OPPO, "oppo", setOf("oppo", "realme", "oneplus")),
    VIVO(T.GUIDE_VIVO, "vivo", setOf("vivo", "iqoo")),
    SAMSUNG(T.GUIDE_SAMSUNG, "samsung", setOf("samsung")),
    HUAWEI(T.GUIDE_HUAWEI, "huawei", setOf("huawei", "honor"));

    val url: String get() = "https://dontkillmyapp.com/$slug"

    companion object {
        fun of(manufacturer: String): Maker? = manufacturer.trim().lowercase().let { m -> entries.firstOrNull { m in it.names } }
    }
}

/** The flow for one phone. */
class OnboardingFlow(private val sdkInt: Int, private val manufacturer: String) {
    /** The steps this phone goes through. */
    val steps: List<Step> = Step.entries.filter {
        when (it) {
            Step.NEARBY_DEVICES -> sdkInt >= Sdk.S
            Step.LOCATION -> sdkInt < Sdk.S
            Step.NOTIFICATIONS -> sdkInt >= Sdk.TIRAMISU
            else -> true
        }
    }

    fun next(step: Step): Step = steps.getOrElse(steps.indexOf(step) + 1) { Step.DONE }

    fun previous(step: Step): Step? = steps.getOrNull(steps.indexOf(step) - 1)

    fun page(step: Step, texts: Texts): Page = when (step) {
        Step.WELCOME -> Page(step, texts(T.ONB_WELCOME_TITLE), texts(T.ONB_WELCOME_BODY), button = texts(T.CONTINUE))
        Step.PRIVACY -> Page(
            step, texts(T.ONB_PRIVACY_TITLE), texts(T.ONB_COLLECTS_TITLE),
            bullets = listOf(
                texts(T.ONB_COLLECTS_ENCOUNTERS),
                texts(T.ONB_COLLECTS_KEYS),
                "${texts(T.ONB_NOT_COLLECTED_TITLE)}: ${texts(T.ONB_NOT_COLLECTED)}",
            ),
            button = texts(T.CONTINUE),
        )
        Step.CONSENT -> Page(
            step, texts(T.ONB_CONSENT_TITLE), texts(T.ONB_CONSENT_BODY),
            checkbox = texts(T.ONB_CONSENT_CHECK), button = texts(T.CONTINUE),
        )
        Step.NEARBY_DEVICES -> Page(
            step, texts(T.ONB_NEARBY_TITLE), texts(T.ONB_NEARBY_BODY),
            bullets = listOf(texts(T.ONB_NEARBY_SCAN), texts(T.ONB_NEARBY_ADVERTISE), texts(T.ONB_NEARBY_CONNECT)),
            permissions = Permissions.radio(sdkInt), button = texts(T.ONB_GRANT),
        )
        Step.LOCATION -> Page(
            step, texts(T.ONB_LOCATION_TITLE), texts(T.ONB_LOCATION_BODY),
            permissions = Permissions.radio(sdkInt), button = texts(T.ONB_GRANT),
        )
        Step.NOTIFICATIONS -> Page(
            step, texts(T.ONB_NOTIFICATIONS_TITLE), texts(T.ONB_NOTIFICATIONS_BODY),
            permissions = listOf(Permissions.POST_NOTIFICATIONS), button = texts(T.ONB_GRANT),
        )
        Step.BATTERY -> {
            val maker = Maker.of(manufacturer)
            Page(
                step, texts(T.ONB_BATTERY_TITLE), texts(T.ONB_BATTERY_BODY),
                bullets = listOfNotNull(
                    maker?.let { "${texts(T.ONB_BATTERY_MAKER)} ${texts(it.text)}" },
                    texts(T.GUIDE_GENERIC, "url" to (maker?.url ?: "https://dontkillmyapp.com")),
                ),
                button = texts(T.ONB_GRANT),
                link = maker?.url ?: "https://dontkillmyapp.com",
            )
        }
        Step.DONE -> Page(step, texts(T.ONB_DONE_TITLE), texts(T.ONB_DONE_BODY), button = texts(T.CONTINUE))
    }
}
