// The iOS app's HTTP client for the native library (ADR 0016): every call the library makes to
// the kelurahan hub goes through URLSession, so the phone's trust store, proxy settings and TLS
// stack apply and the library links none of its own. The Swift twin of the Android app's
// UrlConnectionTransport.kt (bindings/kotlin/src/main/kotlin/id/jemput/transport/).
//
// NOT COMPILED OR TESTED: these machines have no Swift toolchain or Xcode. It is written against
// the Swift that uniffi-bindgen generates from the library (`HubTransport`, `HttpCall`,
// `HttpReply`, `HttpHeader`, `HttpMethod`, `TransportError`); the names were checked against
// the generated `jemput.swift` / `jemput_core.swift` (uniffi-bindgen runs here; swiftc does not).
//
// Pinning: when the enrolment QR carried the hub certificate's SHA-256 (`call.certSha256`),
// exactly the server certificate whose DER bytes have that SHA-256 is accepted, whatever its
// names or issuer (the QR scanned at the kelurahan is the trust anchor); any other is refused
// before anything is sent and reported as `TransportError.CertificateMismatch`. Without it,
// the system verifies the certificate the ordinary way.

import CryptoKit
import Foundation

/// The library's `HubTransport` on URLSession. Blocking: the library calls it on its own
/// worker threads. Set it once on the store: `store.setTransport(transport: URLSessionTransport())`.
public final class URLSessionTransport: HubTransport {
    public init() {}

    public func call(call: HttpCall) throws -> HttpReply {
        guard let url = URL(string: call.url) else {
            throw TransportError.Network(reason: "alamat tidak valid")
        }
        var pin: Data? = nil
        if let text = call.certSha256 {
            guard let p = parsePin(text) else { throw TransportError.CertificateMismatch }
            pin = p
        }
        let seconds = max(0.001, Double(call.timeoutMs) / 1000.0)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: seconds)
        request.httpMethod = call.method == .get ? "GET" : "POST"
        // The hub's answers are compressed already, and a resumed answer counts bytes as sent.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        for h in call.headers {
            request.setValue(h.value, forHTTPHeaderField: h.name)
        }
        if call.method == .post {
            request.httpBody = call.body
        }

        let one = OneCall(pin: pin, max: call.maxReplyBytes)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = min(seconds, 20)
        config.timeoutIntervalForResource = seconds
        config.urlCache = nil
        let session = URLSession(configuration: config, delegate: one, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        one.done.wait()

        if one.pinMismatch { throw TransportError.CertificateMismatch }
        if one.tooLarge { throw TransportError.TooLarge }
        guard let response = one.response else {
            throw TransportError.Network(reason: one.error.map { String(describing: type(of: $0)) } ?? "tidak ada jawaban")
        }
        var headers: [HttpHeader] = []
        for (name, value) in response.allHeaderFields {
            headers.append(HttpHeader(name: "\(name)".lowercased(), value: "\(value)"))
        }
        // A body cut part-way is kept: the library asks the hub for the rest only.
        var complete = one.error == nil
        if complete, response.expectedContentLength >= 0, Int64(one.body.count) != response.expectedContentLength {
            complete = false
        }
        return HttpReply(status: UInt16(clamping: response.statusCode), headers: headers, body: one.body, complete: complete)
    }
}

/// The state of one call, filled by URLSession's delegate callbacks.
private final class OneCall: NSObject, URLSessionDataDelegate {
    let pin: Data?
    let max: UInt64
    let done = DispatchSemaphore(value: 0)
    var response: HTTPURLResponse?
    var body = Data()
    var error: Error?
    var pinMismatch = false
    var tooLarge = false

    init(pin: Data?, max: UInt64) {
        self.pin = pin
        self.max = max
    }

    func urlSession(_ session: URLSession, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        guard let pin = pin,
              challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust,
              let trust = challenge.protectionSpace.serverTrust else {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        guard let chain = SecTrustCopyCertificateChain(trust) as? [SecCertificate],
              let leaf = chain.first,
              Data(SHA256.hash(data: SecCertificateCopyData(leaf) as Data)) == pin else {
            pinMismatch = true
            completionHandler(.cancelAuthenticationChallenge, nil)
            return
        }
        completionHandler(.useCredential, URLCredential(trust: trust))
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        self.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if UInt64(body.count + data.count) > max {
            tooLarge = true
            dataTask.cancel()
            return
        }
        body.append(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil) // redirects are not followed
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        self.error = error
        done.signal()
    }
}

/// The 32 bytes of a fingerprint written as 64 hex digits (with or without `:`), or nil.
private func parsePin(_ text: String) -> Data? {
    let hex = Array(text.replacingOccurrences(of: ":", with: "").utf8)
    guard hex.count == 64 else { return nil }
    var out = Data(capacity: 32)
    var i = 0
    while i < 64 {
        guard let hi = hexValue(hex[i]), let lo = hexValue(hex[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 65...70: return c - 55
    case 97...102: return c - 87
    default: return nil
    }
}
