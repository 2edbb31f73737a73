package org.openzone.app

import java.io.File
import javax.crypto.KeyGenerator
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.openzone.app.keys.DataKey
import org.openzone.app.keys.DataKeyStore
import org.openzone.app.keys.StoreOpener
import org.openzone.core.OpenZonePhone

val dataKeyTests: List<HostTest> = listOf(
    "the key is made once, kept wrapped, and read back" to {
        val file = File(tempDir(), "keys/data-key.bin")
        val wrapper = SoftwareWrapper()
        val first = DataKeyStore(file, wrapper).load()
        assertTrue(first is DataKey.Created)
        assertEquals(32, first.bytes.size)
        val contents = file.readBytes()
        assertTrue(contents.copyOfRange(0, 4).contentEquals("OZK1".toByteArray()))
        assertEquals(4 + 12 + 32 + 16, contents.size)
        assertTrue(!contents.toList().windowed(32).any { it == first.bytes.toList() }, "not in the clear")
        val again = DataKeyStore(file, wrapper).load()
        assertTrue(again is DataKey.Existing)
        assertTrue(again.bytes.contentEquals(first.bytes))
    },
    "a lost wrapping key or a damaged file gives a fresh key and says the store must go" to {
        val file = File(tempDir(), "data-key.bin")
        val wrapper = SoftwareWrapper()
        val first = DataKeyStore(file, wrapper).load()
        wrapper.key = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey() // Keystore reset
        val replaced = DataKeyStore(file, wrapper).load()
        assertTrue(replaced is DataKey.Replaced, "$replaced")
        assertTrue(!replaced.bytes.contentEquals(first.bytes))
        assertEquals(1, wrapper.resets)
        assertTrue(DataKeyStore(file, wrapper).load() is DataKey.Existing)
        file.writeBytes(byteArrayOf(1, 2, 3))
        assertTrue((DataKeyStore(file, wrapper).load() as DataKey.Replaced).reason.contains("not an OpenZone key file"))
        val bytes = file.readBytes()
        bytes[bytes.size - 1] = (bytes[bytes.size - 1] + 1).toByte()
        file.writeBytes(bytes)
        assertTrue(DataKeyStore(file, wrapper).load() is DataKey.Replaced)
    },
    "replacing the key (delete my data) makes a new one under a new wrapping key" to {
        val file = File(tempDir(), "data-key.bin")
        val wrapper = SoftwareWrapper()
        val keys = DataKeyStore(file, wrapper)
        val old = keys.load().bytes
        val oldFile = file.readBytes()
        val new = keys.replace()
        assertTrue(!new.contentEquals(old))
        assertEquals(1, wrapper.resets)
        val again = DataKeyStore(file, wrapper).load()
        assertTrue(again is DataKey.Existing && again.bytes.contentEquals(new), "$again")
        // A copy of the old file opens nothing: its wrapping key is gone.
        file.writeBytes(oldFile)
        assertTrue(DataKeyStore(file, wrapper).load() is DataKey.Replaced)
    },
    "a store the key does not open is wiped and opened with a fresh key" to {
        val dir = tempDir()
        val storeDir = File(dir, "store")
        val keyFile = File(dir, "data-key.bin")
        val wrapper = SoftwareWrapper()
        val platform = RecordingPlatform()
        fun open(key: ByteArray) = OpenZonePhone(settings(storeDir, key = key), platform, null, null)
        var wipes = 0
        val wipe = { wipes++; storeDir.deleteRecursively(); Unit }
        val (first, key1) = StoreOpener.open(DataKeyStore(keyFile, wrapper), wipe, ::open)
        assertTrue(key1 is DataKey.Created)
        first.destroy()
        val (second, key2) = StoreOpener.open(DataKeyStore(keyFile, wrapper), wipe, ::open)
        assertTrue(key2 is DataKey.Existing)
        second.destroy()
        assertEquals(0, wipes)
        // The key file is lost (restored apart from the store): the store refuses the new key.
        keyFile.delete()
        val (third, key3) = StoreOpener.open(DataKeyStore(keyFile, wrapper), wipe, ::open)
        assertTrue(key3 is DataKey.Replaced, "$key3")
        assertEquals(1, wipes)
        third.destroy()
        val (fourth, key4) = StoreOpener.open(DataKeyStore(keyFile, wrapper), wipe, ::open)
        assertTrue(key4 is DataKey.Existing && key4.bytes.contentEquals(key3.bytes))
        fourth.destroy()
    },
)
