import Foundation
import NIOSSL

/// The certificate authorities the client trusts for `https://` and `wss://`: the system's, or
/// those named by `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR` (a folder of hashed PEM
/// certificates, as `openssl rehash` makes; several separated by `:`), as OpenSSL-based tools
/// read them. REST (libcurl: `CURLOPT_CAINFO`, `CURLOPT_CAPATH`) and WebSockets (NIOSSL trust
/// roots) trust the same ones. Verification is never switched off: a certificate that does not
/// verify is an error that says which variable to set.
public struct TLSTrust: Sendable, Equatable {
    /// A PEM file of CA certificates, trusted instead of the system's bundle.
    public var caFile: String?
    /// A folder of hashed CA certificates (or several, `:`-separated), trusted as well.
    public var caDirectory: String?

    public init(caFile: String? = nil, caDirectory: String? = nil) {
        self.caFile = caFile
        self.caDirectory = caDirectory
    }

    /// The system's CAs only.
    public static let system = TLSTrust()

    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` (empty values are ignored).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> TLSTrust {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        return TLSTrust(caFile: value("SSL_CERT_FILE"), caDirectory: value("SSL_CERT_DIR"))
    }

    var directories: [String] { (caDirectory ?? "").split(separator: ":").map(String.init) }

    /// Throws when a named file or folder is missing — before a connection, and in words.
    func check() throws {
        var isDir: ObjCBool = false
        if let f = caFile, !FileManager.default.fileExists(atPath: f, isDirectory: &isDir) || isDir.boolValue {
            throw SpritesError.transport("SSL_CERT_FILE=\(f): no such file (it must name a PEM file of CA certificates)")
        }
        for d in directories where !FileManager.default.fileExists(atPath: d, isDirectory: &isDir) || !isDir.boolValue {
            throw SpritesError.transport("SSL_CERT_DIR=\(d): no such folder")
        }
    }

    /// A client configuration with full verification (chain and host name) against these CAs.
    /// The file's certificates are read here, once (`Endpoint` keeps the configuration), not on
    /// every connection; a folder is looked up by hash as OpenSSL does — NIOSSL reads only its
    /// primary trust root as a folder, so further folders are read whole.
    func clientConfiguration() throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateVerification = .fullVerification
        var fileCerts: [NIOSSLCertificate]?
        if let f = caFile {
            do { fileCerts = try NIOSSLCertificate.fromPEMFile(f) } catch {
                throw SpritesError.transport("SSL_CERT_FILE=\(f): not a PEM file of CA certificates (\(error))")
            }
        }
        var dirs = directories
        var additional: [NIOSSLAdditionalTrustRoots] = []
        if !dirs.isEmpty {
            c.trustRoots = .file(dirs.removeFirst())
            if let fileCerts { additional.append(.certificates(fileCerts)) }
        } else if let fileCerts {
            c.trustRoots = .certificates(fileCerts)
        }
        for d in dirs { additional.append(.certificates(try Self.hashedCertificates(in: d))) }
        c.additionalTrustRoots = additional
        return c
    }

    /// The certificates of a hashed folder (`<8 hex digits>.<n>` entries, as `openssl rehash`
    /// makes them).
    static func hashedCertificates(in dir: String) throws -> [NIOSSLCertificate] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var certs: [NIOSSLCertificate] = []
        for name in names.sorted() {
            let parts = name.split(separator: ".")
            guard parts.count == 2, parts[0].count == 8, parts[0].allSatisfy(\.isHexDigit),
                  parts[1].allSatisfy(\.isNumber) else { continue }
            if let loaded = try? NIOSSLCertificate.fromPEMFile(dir + "/" + name) { certs += loaded }
        }
        guard !certs.isEmpty else { throw SpritesError.transport("SSL_CERT_DIR=\(dir): no hashed CA certificates in it (run openssl rehash)") }
        return certs
    }

    /// What to do about a certificate that did not verify.
    var advice: String {
        switch (caFile, caDirectory) {
        case (nil, nil):
            return "set SSL_CERT_FILE to the CA certificate (PEM) that signed the server's certificate"
        case (let f?, nil):
            return "the CAs in SSL_CERT_FILE=\(f) did not sign it; point SSL_CERT_FILE at the CA that did"
        case (nil, let d?):
            return "no CA in SSL_CERT_DIR=\(d) signed it; set SSL_CERT_FILE to the CA that did"
        case (let f?, let d?):
            return "no CA in SSL_CERT_FILE=\(f) or SSL_CERT_DIR=\(d) signed it; point SSL_CERT_FILE at the CA that did"
        }
    }

    /// The client's words for a TLS failure on a WebSocket, or nil when `error` is not one.
    func describe(_ error: any Error, url: String) -> String? {
        let text = String(describing: error)
        let host = Self.hostPort(url)
        if let e = error as? NIOSSLExtraError, e == .cannotUseIPAddressInSNI {
            return "TLS to \(host): the address is an IP, which TLS cannot send as the server name; "
                + "use a host name the certificate names (e.g. https://localhost:PORT)"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return "certificate verify failed for \(host): \(advice)"
        }
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            return "certificate verify failed for \(host): the certificate does not name \(URLComponents(string: url)?.host ?? host)"
        }
        if let e = error as? NIOSSLError, case .failedToLoadCertificate = e {
            return "cannot load the CA certificates of " + [caFile.map { "SSL_CERT_FILE=\($0)" }, caDirectory.map { "SSL_CERT_DIR=\($0)" }]
                .compactMap { $0 }.joined(separator: " and ") + " (PEM certificates expected)"
        }
        if error is NIOSSLError || error is BoringSSLError || text.contains("SSL") && text.contains("handshake") {
            return "TLS handshake with \(host) failed: \(text)"
        }
        return nil
    }

    /// `host:port` of a URL, for messages (never the path or query).
    static func hostPort(_ url: String) -> String {
        guard let c = URLComponents(string: url), let host = c.host else { return url }
        return c.port.map { "\(host):\($0)" } ?? host
    }
}
