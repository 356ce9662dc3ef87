import Crypto

/// Bytes as lowercase hexadecimal, two digits per byte (digests, tokens). `String(format: "%02x")` per byte was a
/// tenth of oms-billing's CPU for the archive hash alone (measured with perf).
public func lowercaseHex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// SHA-256 of the UTF-8 bytes of `parts` one after the other, as lowercase hex: the same as hashing their
/// concatenation, without building it.
public func sha256Hex(_ parts: String...) -> String {
    var hasher = SHA256()
    for part in parts {
        var part = part
        part.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }
    return lowercaseHex(hasher.finalize())
}
