//! The look of the app, built in code (no XML layouts, no AndroidX): large type, touch targets of
//! at least 56 dp, high contrast, one column that a thumb reaches. Every screen composes its views
//! from these helpers so that sizes and colours stay the same everywhere.

package id.jemput.app

import android.content.Context
import android.graphics.Color
import android.graphics.Typeface
import android.graphics.drawable.GradientDrawable
import android.text.Editable
import android.text.InputType
import android.text.TextWatcher
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.view.inputmethod.EditorInfo
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView

/** Colours of the app (contrast ≥ 4.5:1 on white for every text colour). */
object Warna {
    /** Primary green: header, primary buttons. */
    const val UTAMA = 0xFF00695C.toInt()
    /** Text on white. */
    const val TEKS = 0xFF1A1A1A.toInt()
    /** Secondary text. */
    const val TEKS_PUDAR = 0xFF4A4A4A.toInt()
    /** Error text and emergency buttons. */
    const val GALAT = 0xFFB00020.toInt()
    /** Warning background. */
    const val PERINGATAN_LATAR = 0xFFFFF3CD.toInt()
    /** Warning text. */
    const val PERINGATAN = 0xFF6B4E00.toInt()
    /** Card background. */
    const val KARTU = 0xFFF1F5F4.toInt()
    /** Secondary buttons. */
    const val TOMBOL_KEDUA = 0xFFE0ECEA.toInt()
    /** Good news (all sent). */
    const val BAIK = 0xFF1B5E20.toInt()
    /** Recorded on this phone, not yet sent. */
    const val BELUM_TERKIRIM = 0xFF8A5A00.toInt()
    /** A letter ready to hand over. */
    const val SURAT_SIAP = 0xFF1565C0.toInt()
}

/** Density-independent pixels to pixels. */
fun Context.dp(v: Int): Int = (v * resources.displayMetrics.density + 0.5f).toInt()

/** A text in the app's type: [size] in sp (18 by default, never below 16 for reading). */
fun Context.teks(s: CharSequence, size: Float = 18f, bold: Boolean = false, color: Int = Warna.TEKS): TextView =
    TextView(this).apply {
        text = s
        setTextSize(TypedValue.COMPLEX_UNIT_SP, size)
        setTextColor(color)
        if (bold) typeface = Typeface.DEFAULT_BOLD
        setLineSpacing(0f, 1.1f)
    }

/** A rounded background of [color]. */
fun Context.latar(color: Int, radiusDp: Int = 10, stroke: Int? = null): GradientDrawable =
    GradientDrawable().apply {
        setColor(color)
        cornerRadius = dp(radiusDp).toFloat()
        if (stroke != null) setStroke(dp(2), stroke)
    }

/** A full-width button at least 56 dp tall. [utama] is the one main action of a screen. */
fun Context.tombol(label: String, utama: Boolean = false, warna: Int? = null, onClick: () -> Unit): Button =
    Button(this).apply {
        text = label
        isAllCaps = false
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 19f)
        typeface = Typeface.DEFAULT_BOLD
        minHeight = dp(56)
        minimumHeight = dp(56)
        stateListAnimator = null
        val bg = warna ?: if (utama) Warna.UTAMA else Warna.TOMBOL_KEDUA
        background = latar(bg)
        setTextColor(if (warna != null || utama) Color.WHITE else Warna.UTAMA)
        setPadding(dp(16), dp(10), dp(16), dp(10))
        setOnClickListener { onClick() }
        layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
            topMargin = dp(10)
        }
    }

/** Scrolls the page (once laid out) so that this view and what follows it in its column are in
 *  sight: a result shown under the button that made it. */
fun View.gulirKeSini() {
    post {
        val bawah = (parent as? View)?.let { it.height - top } ?: height
        requestRectangleOnScreen(android.graphics.Rect(0, 0, width, bawah), true)
    }
}

/** A vertical column with the screen's padding. */
fun Context.kolom(padDp: Int = 16): LinearLayout =
    LinearLayout(this).apply {
        orientation = LinearLayout.VERTICAL
        setPadding(dp(padDp), dp(padDp / 2), dp(padDp), dp(padDp))
    }

/** [content] in a vertical scroll view filling the screen. */
fun Context.gulir(content: View): ScrollView =
    ScrollView(this).apply {
        isFillViewport = true
        addView(content)
    }

/** A card: a tinted rounded box with its own column. */
fun Context.kartu(color: Int = Warna.KARTU): LinearLayout =
    kolom(12).apply {
        background = latar(color)
        layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
            topMargin = dp(10)
        }
    }

/** A check box with large text and a tall touch area. */
fun Context.centang(label: String, checked: Boolean = false, onChange: (Boolean) -> Unit = {}): CheckBox =
    CheckBox(this).apply {
        text = label
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 18f)
        setTextColor(Warna.TEKS)
        minHeight = dp(52)
        isChecked = checked
        setOnCheckedChangeListener { _, c -> onChange(c) }
    }

/** A labelled text field with its inline error line below it. */
class Isian(ctx: Context, label: String, hint: String = "", type: Int = InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_CAP_WORDS) {
    /** The column holding label, field and error; add it to a screen. */
    val view: LinearLayout = LinearLayout(ctx).apply { orientation = LinearLayout.VERTICAL; setPadding(0, ctx.dp(8), 0, 0) }
    /** The label above the field. */
    val label: TextView = ctx.teks(label, 16f, bold = true, color = Warna.TEKS_PUDAR)
    /** The field itself. */
    val edit: EditText = EditText(ctx).apply {
        this.hint = hint
        inputType = type
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 20f)
        setTextColor(Warna.TEKS)
        minHeight = ctx.dp(56)
        imeOptions = EditorInfo.IME_ACTION_NEXT
        setSingleLine(type and InputType.TYPE_TEXT_FLAG_MULTI_LINE == 0)
    }
    /** The error or warning shown under the field while the officer types. */
    val galat: TextView = ctx.teks("", 16f, color = Warna.GALAT).apply { visibility = View.GONE }

    init {
        view.addView(this.label)
        view.addView(edit)
        view.addView(galat)
        // A reported error goes away as soon as the officer changes the field.
        saatBerubah { if (galat.visibility == View.VISIBLE) tampilkan(null) }
    }

    /** The text as typed, trimmed. */
    var nilai: String
        get() = edit.text.toString().trim()
        set(v) { edit.setText(v) }

    /** Shows [pesan] under the field (red for errors, brown for warnings), or hides it when null. */
    fun tampilkan(pesan: String?, peringatan: Boolean = false) {
        galat.text = pesan ?: ""
        galat.setTextColor(if (peringatan) Warna.PERINGATAN else Warna.GALAT)
        galat.visibility = if (pesan.isNullOrEmpty()) View.GONE else View.VISIBLE
    }

    /** Calls [f] after each change of the text. */
    fun saatBerubah(f: (String) -> Unit) {
        edit.addTextChangedListener(object : TextWatcher {
            override fun beforeTextChanged(s: CharSequence?, a: Int, b: Int, c: Int) {}
            override fun onTextChanged(s: CharSequence?, a: Int, b: Int, c: Int) {}
            override fun afterTextChanged(s: Editable?) = f(s?.toString() ?: "")
        })
    }
}

/** A row of toggle buttons of which one is chosen (e.g. sex, complaint category). */
class Pilihan<T>(private val ctx: Context, private val options: List<Pair<T, String>>, private val onPick: (T) -> Unit = {}) {
    /** The row to add to a screen. */
    val view: LinearLayout = LinearLayout(ctx).apply { orientation = LinearLayout.HORIZONTAL }
    private val buttons = options.map { (v, label) ->
        Button(ctx).apply {
            text = label
            isAllCaps = false
            setTextSize(TypedValue.COMPLEX_UNIT_SP, if (options.size > 2) 16f else 18f)
            minHeight = ctx.dp(56)
            minWidth = 0
            minimumWidth = 0
            setPadding(ctx.dp(4), ctx.dp(8), ctx.dp(4), ctx.dp(8))
            maxLines = 1
            stateListAnimator = null
            setOnClickListener { pilih(v); onPick(v) }
            layoutParams = LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f).apply { marginEnd = ctx.dp(6); topMargin = ctx.dp(6) }
        }
    }
    /** The chosen option, or null. */
    var terpilih: T? = null
        private set

    init {
        buttons.forEach { view.addView(it) }
        gambar()
    }

    /** Chooses [v] without calling the listener. */
    fun pilih(v: T?) {
        terpilih = v
        gambar()
    }

    private fun gambar() {
        options.forEachIndexed { i, (v, _) ->
            val on = v == terpilih
            buttons[i].background = ctx.latar(if (on) Warna.UTAMA else Color.WHITE, stroke = Warna.UTAMA)
            buttons[i].setTextColor(if (on) Color.WHITE else Warna.UTAMA)
            buttons[i].typeface = if (on) Typeface.DEFAULT_BOLD else Typeface.DEFAULT
        }
    }
}

/** A receipt code in monospaced bold type, so that similar characters stay apart. */
fun Context.kode(s: String, size: Float): TextView = teks(s, size, bold = true).apply {
    typeface = Typeface.create(Typeface.MONOSPACE, Typeface.BOLD)
}

/** A new receipt code for the resident: large, selectable, then spelled for reading aloud. */
fun LinearLayout.tambahTandaTerima(kode: String) {
    addView(context.kode(kode, 40f).apply { setTextIsSelectable(true) })
    addView(context.teks("Dibaca:", 17f, bold = true, color = Warna.TEKS_PUDAR))
    addView(context.teks(Teks.ejaKode(kode), 19f))
}

/** A horizontal rule between sections. */
fun Context.garis(): View = View(this).apply {
    setBackgroundColor(0xFFCCCCCC.toInt())
    layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, dp(1)).apply { topMargin = dp(12); bottomMargin = dp(4) }
}

/** A small coloured label for a status. */
fun Context.lencana(s: String, color: Int): TextView = teks(s, 15f, bold = true, color = Color.WHITE).apply {
    background = latar(color, 6)
    setPadding(dp(8), dp(2), dp(8), dp(2))
    gravity = Gravity.CENTER
}
