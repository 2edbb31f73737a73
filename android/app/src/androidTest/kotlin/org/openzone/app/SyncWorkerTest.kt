// On a device: the worker runs through WorkManager's test builder; without a configured key server (the
// default build) or consent it succeeds without doing anything.
package org.openzone.app

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import androidx.work.ListenableWorker
import androidx.work.testing.TestListenableWorkerBuilder
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.app.work.SyncWorker

@RunWith(AndroidJUnit4::class)
class SyncWorkerTest {
    @Test
    fun withoutConsentOrServerTheWorkerDoesNothing() {
        val context = InstrumentationRegistry.getInstrumentation().targetContext
        val worker = TestListenableWorkerBuilder<SyncWorker>(context).build()
        assertEquals(ListenableWorker.Result.success(), runBlocking { worker.doWork() })
    }
}
