// The host-JVM tests of the Android shell's plain Kotlin, run against the real core library through the
// generated bindings (JNA), the way bindings/tests/kotlin runs. A tiny runner: each file lists its tests;
// main runs them all and ends with "N passed, M failed".
//
// Run by android/host-tests/run.sh (from scripts/test).
package org.openzone.app

import kotlin.system.exitProcess

typealias HostTest = Pair<String, () -> Unit>

fun main(args: Array<String>) {
    val suites = listOf(
        "i18n" to i18nTests,
        "platform facts" to platformFactsTests,
        "status" to statusTests,
        "exposure" to exposureTests,
        "positive report" to positiveReportTests,
        "settings" to settingsTests,
        "onboarding" to onboardingTests,
        "scan mapper" to scanMapperTests,
        "scan limiter" to scanControllerTests,
        "advertising" to advertisingTests,
        "gatt" to gattTests,
        "qa and diagnostics" to qaTests,
        "sync" to syncTests,
        "phone events" to phoneEventsTests,
        "data key" to dataKeyTests,
    )
    val filter = args.firstOrNull()
    var passed = 0
    var failed = 0
    val started = System.currentTimeMillis()
    for ((suite, tests) in suites) {
        for ((name, test) in tests) {
            val full = "$suite: $name"
            if (filter != null && !full.contains(filter)) continue
            try {
                test()
                passed++
                println("ok     $full")
            } catch (e: Throwable) {
                failed++
                println("FAILED $full: $e")
                e.printStackTrace(System.out)
            }
        }
    }
    println("(${(System.currentTimeMillis() - started) / 1000.0} s)")
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
