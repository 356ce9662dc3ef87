/// The upload rule for return photos: the type is decided from the bytes (JPEG, PNG or WebP signature and a
/// structure that parses), never from the file name or the browser's Content-Type; metadata that can carry a
/// location (EXIF with its GPS block, XMP, IPTC, PNG text chunks) is removed before the photo is stored.
public enum PhotoScrubber {
    public enum Kind: String, Sendable {
        case jpeg, png, webp
        public var fileExtension: String { rawValue == "jpeg" ? "jpg" : rawValue }
        public var mediaType: String { "image/\(rawValue)" }
    }

    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public struct Clean: Sendable {
        public let kind: Kind
        public let bytes: [UInt8]
        /// Metadata blocks that were removed (e.g. "EXIF", "XMP").
        public let removed: [String]
    }

    public static func kind(of bytes: [UInt8]) -> Kind? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.count >= 12, bytes[0..<4].elementsEqual(Array("RIFF".utf8)), bytes[8..<12].elementsEqual(Array("WEBP".utf8)) { return .webp }
        return nil
    }

    public static func scrub(_ bytes: [UInt8], maximumBytes: Int) throws(Refusal) -> Clean {
        guard !bytes.isEmpty else { throw Refusal(description: "the file is empty") }
        guard bytes.count <= maximumBytes else {
            throw Refusal(description: "the file is larger than \(maximumBytes / 1_048_576) MiB")
        }
        switch kind(of: bytes) {
        case .jpeg: return try jpeg(bytes)
        case .png: return try png(bytes)
        case .webp: return try webp(bytes)
        case nil: throw Refusal(description: "only JPEG, PNG and WebP photos are accepted")
        }
    }

    // MARK: - JPEG: segments FF xx [length] up to the start of scan, which is copied as it is.

    static func jpeg(_ b: [UInt8]) throws(Refusal) -> Clean {
        let broken = Refusal(description: "the JPEG file is damaged")
        var out: [UInt8] = [0xFF, 0xD8]
        var removed: [String] = []
        var i = 2
        while true {
            guard i + 1 < b.count, b[i] == 0xFF else { throw broken }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD9 { out += [0xFF, 0xD9]; break }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { out += [0xFF, marker]; i += 2; continue }
            guard i + 3 < b.count else { throw broken }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { throw broken }
            let segment = b[i..<(i + 2 + length)]
            let payload = b[(i + 4)..<(i + 2 + length)]
            if marker == 0xDA {
                out += b[i...]  // start of scan: the compressed image and everything after it
                return Clean(kind: .jpeg, bytes: out, removed: removed)
            }
            if marker == 0xE1, payload.starts(with: Array("Exif".utf8)) {
                removed.append("EXIF")
            } else if marker == 0xE1 {
                removed.append("XMP")
            } else if marker == 0xED {
                removed.append("IPTC")
            } else {
                out += segment
            }
            i += 2 + length
        }
        return Clean(kind: .jpeg, bytes: out, removed: removed)
    }

    // MARK: - PNG: length, type, data, CRC chunks up to IEND.

    static let pngDropped: Set<String> = ["eXIf", "tEXt", "iTXt", "zTXt"]

    static func png(_ b: [UInt8]) throws(Refusal) -> Clean {
        let broken = Refusal(description: "the PNG file is damaged")
        var out = Array(b[0..<8])
        var removed: [String] = []
        var i = 8
        while true {
            guard i + 12 <= b.count else { throw broken }
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length <= b.count - i - 12 else { throw broken }
            let type = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            let end = i + 12 + length
            if Self.pngDropped.contains(type) {
                removed.append(type == "eXIf" ? "EXIF" : "text")
            } else {
                out += b[i..<end]
            }
            i = end
            if type == "IEND" { break }
        }
        return Clean(kind: .png, bytes: out, removed: removed)
    }

    // MARK: - WebP: a RIFF container of chunks (fourcc, little-endian size, data padded to even).

    static func webp(_ b: [UInt8]) throws(Refusal) -> Clean {
        let broken = Refusal(description: "the WebP file is damaged")
        var chunks: [UInt8] = []
        var removed: [String] = []
        var i = 12
        var vp8xAt: Int?
        while i < b.count {
            guard i + 8 <= b.count else { throw broken }
            let fourcc = String(decoding: b[i..<(i + 4)], as: UTF8.self)
            let size = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            let padded = size + (size & 1)
            guard padded <= b.count - i - 8 else { throw broken }
            let end = i + 8 + padded
            if fourcc == "EXIF" || fourcc == "XMP " {
                removed.append(fourcc == "EXIF" ? "EXIF" : "XMP")
            } else {
                if fourcc == "VP8X", size >= 1 { vp8xAt = chunks.count + 8 }
                chunks += b[i..<end]
            }
            i = end
        }
        // The VP8X header announces EXIF (bit 3) and XMP (bit 2); they are gone now.
        if let flags = vp8xAt { chunks[flags] &= ~UInt8(0x0C) }
        let riffSize = UInt32(chunks.count + 4)
        let header: [UInt8] = Array("RIFF".utf8) + [UInt8(riffSize & 0xFF), UInt8(riffSize >> 8 & 0xFF), UInt8(riffSize >> 16 & 0xFF), UInt8(riffSize >> 24)]
            + Array("WEBP".utf8)
        return Clean(kind: .webp, bytes: header + chunks, removed: removed)
    }
}
