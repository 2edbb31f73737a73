// The store's 32-byte data key. A random key is generated once and kept wrapped (encrypted) in a file in
// app-private no-backup storage; the wrapping key lives in the Android Keystore (AES-256-GCM, never
// leaving it; in the TEE or StrongBox where the phone has one). Wrapping a random key, rather than using
// a Keystore key directly, is needed because the core takes the key's bytes: a Keystore key cannot be
// exported. A lost wrapping key (app data restored to another phone, Keystore reset by some OEM updates)
// makes the store unreadable: the app then starts over with a fresh key and an empty store, which loses
// at most the retention period's encounters and nothing else.
//
// File: "OZK1" || wrapped, where wrapped is what the KeyWrapper returns (Android: 12-byte IV || ciphertext
// || 16-byte tag).
package org.openzone.app.keys

import java.io.File
import java.security.SecureRandom
import org.openzone.core.OpenZoneException

/** Encrypts and decrypts the data key (Android: an AES-GCM key in the AndroidKeyStore). */
interface KeyWrapper {
    fun wrap(plain: ByteArray): ByteArray
    /** Throws when the wrapping key is gone or the bytes were changed. */
    fun unwrap(wrapped: ByteArray): ByteArray
    /** Deletes the wrapping key, so a new one is made next time. */
    fun reset()
}

/** How the key was obtained. */
sealed interface DataKey {
    val bytes: ByteArray

    /** Read from the file. */
    class Existing(override val bytes: ByteArray) : DataKey
    /** Made now: first run. */
    class Created(override val bytes: ByteArray) : DataKey
    /** Made now because the old one could not be read: the store must be wiped before it is opened. */
    class Replaced(override val bytes: ByteArray, val reason: String) : DataKey
}

/** Loads or creates the data key. */
class DataKeyStore(
    private val file: File,
    private val wrapper: KeyWrapper,
    private val random: SecureRandom = SecureRandom(),
) {
    fun load(): DataKey {
        if (!file.exists()) return DataKey.Created(create())
        val problem = try {
            val contents = file.readBytes()
            if (contents.size <= MAGIC.size || !contents.copyOfRange(0, MAGIC.size).contentEquals(MAGIC)) {
                "the key file is not an OpenZone key file"
            } else {
                val key = wrapper.unwrap(contents.copyOfRange(MAGIC.size, contents.size))
                if (key.size == KEY_BYTES) return DataKey.Existing(key)
                "the key file holds ${key.size} bytes instead of $KEY_BYTES"
            }
        } catch (e: Exception) {
            "the key could not be unwrapped (${e::class.simpleName})"
        }
        wrapper.reset()
        return DataKey.Replaced(create(), problem)
    }

    /**
     * A new key under a new wrapping key, in place of the old ("delete my data"): the caller hands it to
     * `OpenZonePhone.deleteAllData`, which reseals the emptied store under it. The old wrapping key is
     * deleted, so a copy of the old key file left in flash opens nothing. Should the deletion fail after
     * this, the store no longer opens with the key on file and the next start wipes it (StoreOpener).
     */
    fun replace(): ByteArray {
        wrapper.reset()
        return create()
    }

    /** A new key, written atomically (a temporary file renamed over the old one). */
    fun create(): ByteArray {
        val key = ByteArray(KEY_BYTES).also(random::nextBytes)
        file.parentFile?.mkdirs()
        val tmp = File(file.path + ".tmp")
        tmp.writeBytes(MAGIC + wrapper.wrap(key))
        if (!tmp.renameTo(file)) {
            file.delete()
            check(tmp.renameTo(file)) { "cannot write the data key file" }
        }
        return key
    }

    companion object {
        val MAGIC = "OZK1".toByteArray(Charsets.US_ASCII)
        const val KEY_BYTES = 32
    }
}

/** Opens the phone's store, starting over when the data key cannot open it. */
object StoreOpener {
    /**
     * [open] creates the phone from a key; [wipe] deletes the store's directory. A replaced key wipes
     * first; a key that the store refuses (`WrongDataKey`: the key file was lost or restored apart from the
     * store) wipes and opens with a new key once.
     */
    fun <E> open(keys: DataKeyStore, wipe: () -> Unit, open: (ByteArray) -> E): Pair<E, DataKey> {
        val key = keys.load()
        if (key is DataKey.Replaced) wipe()
        return try {
            open(key.bytes) to key
        } catch (e: OpenZoneException.WrongDataKey) {
            wipe()
            val fresh = DataKey.Replaced(keys.create(), "the store did not open with the data key")
            open(fresh.bytes) to fresh
        }
    }
}
