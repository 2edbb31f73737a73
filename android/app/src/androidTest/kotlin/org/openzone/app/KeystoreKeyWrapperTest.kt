// On a device: the data key is wrapped by a real AndroidKeyStore key and survives a new wrapper instance
// (a new process); a reset wrapping key makes the store start over.
package org.openzone.app

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import java.io.File
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.app.keys.DataKey
import org.openzone.app.keys.DataKeyStore
import org.openzone.app.system.KeystoreKeyWrapper

@RunWith(AndroidJUnit4::class)
class KeystoreKeyWrapperTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext
    private val alias = "openzone-test-wrap"
    private val file = File(context.noBackupFilesDir, "test-data-key.bin")

    @After
    fun cleanUp() {
        KeystoreKeyWrapper(alias).reset()
        file.delete()
    }

    @Test
    fun wrapsAndUnwrapsWithTheKeystore() {
        val wrapper = KeystoreKeyWrapper(alias)
        val plain = ByteArray(32) { it.toByte() }
        val wrapped = wrapper.wrap(plain)
        assertEquals(12 + 32 + 16, wrapped.size)
        assertArrayEquals(plain, KeystoreKeyWrapper(alias).unwrap(wrapped))
    }

    @Test
    fun theDataKeyIsKeptAcrossProcessesAndReplacedWhenTheKeystoreLosesIt() {
        val first = DataKeyStore(file, KeystoreKeyWrapper(alias)).load()
        assertTrue(first is DataKey.Created)
        val again = DataKeyStore(file, KeystoreKeyWrapper(alias)).load()
        assertTrue(again is DataKey.Existing)
        assertArrayEquals(first.bytes, again.bytes)
        KeystoreKeyWrapper(alias).reset()
        assertTrue(DataKeyStore(file, KeystoreKeyWrapper(alias)).load() is DataKey.Replaced)
    }
}
