//! Work off the main thread: every call into the library that touches the disk or the network
//! runs here, and its result comes back on the main thread. The screen never waits.

package id.jemput.app

import android.os.Handler
import android.os.Looper
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicInteger

/** The app's background threads. */
object Latar {
    private val pool = Executors.newFixedThreadPool(2) { r -> Thread(r, "jemput-latar").apply { isDaemon = true } }

    /** How many tasks are running or waiting (the tests wait for zero). */
    val sibuk = AtomicInteger()

    /** Runs [f] on the main thread. */
    fun diUtama(f: () -> Unit) {
        Handler(Looper.getMainLooper()).post(f)
    }

    /** Runs [task] in the background, then [ok] or [gagal] on the main thread. */
    fun <T> kerjakan(task: () -> T, gagal: (Throwable) -> Unit, ok: (T) -> Unit) {
        sibuk.incrementAndGet()
        pool.execute {
            val r = runCatching(task)
            diUtama {
                try {
                    r.fold(ok, gagal)
                } finally {
                    sibuk.decrementAndGet()
                }
            }
        }
    }

    /** Runs [f] on a thread of its own (a sync), counted like other background work. */
    fun benang(name: String, f: () -> Unit) {
        sibuk.incrementAndGet()
        Thread({
            try {
                f()
            } finally {
                diUtama { sibuk.decrementAndGet() }
            }
        }, name).apply { isDaemon = true }.start()
    }
}
