//! The database key: 32 random bytes generated once on this phone, kept only wrapped (encrypted)
//! by a key that lives in the Android Keystore and never leaves it. The Keystore key needs no
//! fingerprint, PIN or lock screen (officers' phones often have none), so sync can run in the
//! background after a reboot. The library asks for the key through its `KeyProvider` trait.

package id.jemput.app

import android.os.Build
import android.security.KeyPairGeneratorSpec
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.io.FileOutputStream
import java.math.BigInteger
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.SecureRandom
import java.util.Calendar
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import javax.security.auth.x500.X500Principal
import uniffi.jemput.KeyProvider

/** Encrypts and decrypts the database key with a key the app cannot read out. */
interface KeyWrapper {
    /** The wrapped form of [key], to keep in a file. */
    fun wrap(key: ByteArray): ByteArray

    /** [wrapped] back to the key; throws when the wrapping key is gone or the file damaged. */
    fun unwrap(wrapped: ByteArray): ByteArray
}

/**
 * The Android Keystore. From Android 6 (API 23): an AES-256-GCM key; on Android 5 (API 21–22),
 * whose Keystore has no symmetric keys, an RSA-2048 key pair (OAEP is not offered there, so
 * PKCS#1 v1.5 padding). Neither is bound to user authentication.
 */
class KeystoreWrapper(private val context: android.content.Context) : KeyWrapper {
    private val alias = "jemput-kunci-basis-data"
    private val ks: KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    override fun wrap(key: ByteArray): ByteArray =
        if (Build.VERSION.SDK_INT >= 23) {
            val c = Cipher.getInstance("AES/GCM/NoPadding")
            c.init(Cipher.ENCRYPT_MODE, aesKey())
            byteArrayOf(1, c.iv.size.toByte()) + c.iv + c.doFinal(key)
        } else {
            val c = Cipher.getInstance("RSA/ECB/PKCS1Padding")
            c.init(Cipher.ENCRYPT_MODE, rsaPair().certificate.publicKey)
            byteArrayOf(2) + c.doFinal(key)
        }

    override fun unwrap(wrapped: ByteArray): ByteArray = when (wrapped.firstOrNull()?.toInt()) {
        1 -> {
            val ivLen = wrapped[1].toInt()
            val c = Cipher.getInstance("AES/GCM/NoPadding")
            val k = ks.getKey(alias, null) as? SecretKey ?: error("kunci pembungkus hilang")
            c.init(Cipher.DECRYPT_MODE, k, GCMParameterSpec(128, wrapped, 2, ivLen))
            c.doFinal(wrapped, 2 + ivLen, wrapped.size - 2 - ivLen)
        }
        2 -> {
            val entry = ks.getEntry(alias, null) as? KeyStore.PrivateKeyEntry ?: error("kunci pembungkus hilang")
            val c = Cipher.getInstance("RSA/ECB/PKCS1Padding")
            c.init(Cipher.DECRYPT_MODE, entry.privateKey)
            c.doFinal(wrapped, 1, wrapped.size - 1)
        }
        else -> error("berkas kunci rusak")
    }

    private fun aesKey(): SecretKey {
        (ks.getKey(alias, null) as? SecretKey)?.let { return it }
        val g = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        g.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setUserAuthenticationRequired(false)
                .build(),
        )
        return g.generateKey()
    }

    @Suppress("DEPRECATION")
    private fun rsaPair(): KeyStore.PrivateKeyEntry {
        (ks.getEntry(alias, null) as? KeyStore.PrivateKeyEntry)?.let { return it }
        val start = Calendar.getInstance()
        val end = Calendar.getInstance().apply { add(Calendar.YEAR, 30) }
        val g = KeyPairGenerator.getInstance("RSA", "AndroidKeyStore")
        g.initialize(
            KeyPairGeneratorSpec.Builder(context).setAlias(alias).setSubject(X500Principal("CN=$alias"))
                .setSerialNumber(BigInteger.ONE).setStartDate(start.time).setEndDate(end.time).setKeySize(2048).build(),
        )
        g.generateKeyPair()
        return ks.getEntry(alias, null) as KeyStore.PrivateKeyEntry
    }
}

/**
 * The library's key provider: creates the key once (only when the database does not exist yet),
 * keeps it wrapped in [file] (in the app's no-backup directory, so it never reaches a cloud
 * backup without the Keystore key that opens it), and gives it back on every later open. A
 * missing file gives null, which the library reports as a lost key (`kunci_hilang`) instead of
 * starting an empty database.
 *
 * Replacing the key (ADR 0015) keeps a second, *pending* key in [tertunda] while the store is
 * re-sealed: written durably before the library is asked to rotate, made current (an atomic
 * rename) only after the library returned. So at every moment the store is under a key this
 * vault still holds, whenever the process is killed; [Jemput.buka] finishes what was cut.
 */
class KeyVault(private val file: File, private val wrapper: KeyWrapper) : KeyProvider {
    /** The wrapped pending key of a rotation in progress. */
    val tertunda = File(file.path + ".tertunda")

    override fun databaseKey(create: Boolean): ByteArray? {
        if (create) {
            val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
            tulisAman(file, wrapper.wrap(key))
            return key
        }
        if (!file.exists()) return null
        return wrapper.unwrap(file.readBytes())
    }

    /** The pending key of a rotation that was cut short, or null when none is under way. */
    fun kunciTertunda(): ByteArray? = if (tertunda.exists()) wrapper.unwrap(tertunda.readBytes()) else null

    /** Makes a new random key and keeps it as pending, on disk, before it is used. */
    fun buatTertunda(): ByteArray {
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        tulisAman(tertunda, wrapper.wrap(key))
        return key
    }

    /** The pending key becomes the current one (the store is under it now). */
    fun jadikanKini() {
        if (!tertunda.renameTo(file)) error("berkas kunci tidak dapat disimpan")
        syncDir(file.parentFile)
    }

    /** Writes [bytes] to [f] whole or not at all: a temporary file, flushed to the disk, renamed. */
    private fun tulisAman(f: File, bytes: ByteArray) {
        val tmp = File(f.path + ".baru")
        FileOutputStream(tmp).use {
            it.write(bytes)
            it.fd.sync()
        }
        if (!tmp.renameTo(f)) error("berkas kunci tidak dapat disimpan")
        syncDir(f.parentFile)
    }

    /** Flushes a directory's entries (the rename) where the platform allows opening one. */
    private fun syncDir(dir: File?) {
        dir ?: return
        runCatching { java.nio.channels.FileChannel.open(dir.toPath(), java.nio.file.StandardOpenOption.READ).use { it.force(true) } }
    }
}
