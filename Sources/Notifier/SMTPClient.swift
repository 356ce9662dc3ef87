import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NotifierCore

/// How the mail sender reaches its SMTP server (`OMS_SMTP_*`).
struct SMTPSettings: Sendable {
    enum TLS: String, Sendable {
        /// STARTTLS when the server offers it (the default), plain otherwise.
        case startTLSIfOffered = "starttls-if-offered"
        /// Refuse to send unless STARTTLS succeeds.
        case requireStartTLS = "require"
        case off
    }

    let host: String
    let port: Int
    let from: String
    let heloName: String
    let tls: TLS
    /// PEM file of the CA to trust instead of the system's (a private relay).
    let caFile: String?
    let username: String?
    let password: String?

    static func read(_ environment: [String: String]) throws -> SMTPSettings? {
        guard let host = environment["OMS_SMTP_HOST"], !host.isEmpty else { return nil }
        let portText = environment["OMS_SMTP_PORT"] ?? "25"
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw ConfigurationErrorText(setting: "OMS_SMTP_PORT", problem: "must be a port number, found \"\(portText.prefix(20))\"")
        }
        guard let from = environment["OMS_SMTP_FROM"], MailMessage.isDeliverable(from) else {
            throw ConfigurationErrorText(setting: "OMS_SMTP_FROM", problem: "must be the sender's address (e.g. service@shop.example)")
        }
        let tlsText = environment["OMS_SMTP_TLS"] ?? TLS.startTLSIfOffered.rawValue
        guard let tls = TLS(rawValue: tlsText) else {
            throw ConfigurationErrorText(setting: "OMS_SMTP_TLS", problem: "must be starttls-if-offered, require or off")
        }
        return SMTPSettings(host: host, port: port, from: from, heloName: environment["OMS_SMTP_HELO"] ?? "oms-notifier.localdomain", tls: tls,
                            caFile: environment["OMS_SMTP_CA_FILE"], username: environment["OMS_SMTP_USER"], password: environment["OMS_SMTP_PASSWORD"])
    }
}

struct ConfigurationErrorText: Error, CustomStringConvertible {
    let setting: String
    let problem: String
    var description: String { "configuration error: \(setting): \(problem)" }
}

struct SMTPError: Error, CustomStringConvertible {
    let description: String
    /// A 5xx answer: the message will never go (bad address); anything else is worth another try.
    let permanent: Bool
}

/// A small blocking SMTP client (SwiftNIO underneath, TLS by swift-nio-ssl after STARTTLS); used from the mail
/// sender's own thread only. One connection sends a batch of messages.
final class SMTPConnection {
    private let channel: Channel
    private let replies: ReplyQueue
    private let settings: SMTPSettings
    private(set) var encrypted = false

    init(settings: SMTPSettings) throws {
        self.settings = settings
        let replies = ReplyQueue()
        self.replies = replies
        channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(queue: replies))
                }
            }
            .connect(host: settings.host, port: settings.port).wait()
        try expect(220, try replies.next())
        var offers = try hello()
        if settings.tls != .off, offers.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) {
            try send("STARTTLS")
            try expect(220, try replies.next())
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let caFile = settings.caFile { configuration.trustRoots = .file(caFile) }
            let context = try NIOSSLContext(configuration: configuration)
            let host = settings.host
            try channel.eventLoop.submit { [channel] in
                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: host), position: .first)
            }.wait()
            encrypted = true
            offers = try hello()
        } else if settings.tls == .requireStartTLS {
            throw SMTPError(description: "\(settings.host) does not offer STARTTLS, and OMS_SMTP_TLS=require", permanent: false)
        }
        if let user = settings.username, let password = settings.password {
            guard encrypted || settings.tls == .off else { throw SMTPError(description: "no AUTH without TLS", permanent: false) }
            try send("AUTH PLAIN " + Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString())
            try expect(235, try replies.next())
        }
        _ = offers
    }

    private func hello() throws -> [String] {
        try send("EHLO \(settings.heloName)")
        let reply = try replies.next()
        try expect(250, reply)
        return Array(reply.lines.dropFirst())
    }

    private func send(_ line: String) throws {
        try write(line + "\r\n")
    }

    private func write(_ text: String) throws {
        try channel.writeAndFlush(ByteBuffer(string: text)).wait()
    }

    private func expect(_ code: Int, _ reply: SMTPReply) throws {
        guard reply.code == code || (code == 250 && reply.code == 251) else {
            throw SMTPError(description: "\(settings.host) answered \(reply.code) \(reply.lines.last?.prefix(200) ?? "")", permanent: (500..<600).contains(reply.code))
        }
    }

    func send(_ message: MailMessage, boundary: String) throws {
        try send("MAIL FROM:<\(settings.from)>")
        try expect(250, try replies.next())
        try send("RCPT TO:<\(message.to)>")
        try expect(250, try replies.next())
        try send("DATA")
        try expect(354, try replies.next())
        // Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets another.
        let body = message.rendered(boundary: boundary).components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
        try write(body + "\r\n.\r\n")
        try expect(250, try replies.next())
    }

    func close() {
        try? send("QUIT")
        _ = try? replies.next(timeout: 2)
        try? channel.close().wait()
    }
}

struct SMTPReply: Sendable {
    let code: Int
    let lines: [String]
}

/// Complete replies handed from the event loop to the sender's thread.
final class ReplyQueue: @unchecked Sendable {
    private let lock = NSCondition()
    private var replies: [SMTPReply] = []
    private var failure: String?

    func push(_ reply: SMTPReply) {
        lock.lock()
        replies.append(reply)
        lock.signal()
        lock.unlock()
    }

    func fail(_ why: String) {
        lock.lock()
        failure = failure ?? why
        lock.signal()
        lock.unlock()
    }

    func next(timeout: Double = 30) throws -> SMTPReply {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while replies.isEmpty {
            if let failure { throw SMTPError(description: failure, permanent: false) }
            guard lock.wait(until: deadline) else { throw SMTPError(description: "no answer within \(Int(timeout)) s", permanent: false) }
        }
        return replies.removeFirst()
    }
}

/// Splits the stream into CRLF lines (at most 4 KiB each).
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4096 { throw SMTPError(description: "an SMTP line longer than 4 KiB", permanent: false) }
            return .needMoreData
        }
        guard let line = buffer.readSlice(length: newline - buffer.readerIndex + 1) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}

/// Collects "250-…" continuation lines into one reply.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let queue: ReplyQueue
    private var lines: [String] = []

    init(queue: ReplyQueue) { self.queue = queue }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let line = (buffer.readString(length: buffer.readableBytes) ?? "").trimmingCharacters(in: .newlines)
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes.prefix(3), as: UTF8.self)) else {
            queue.fail("not an SMTP reply: \(line.prefix(80))")
            return
        }
        lines.append(String(line.dropFirst(4)))
        if bytes.count == 3 || bytes[3] != UInt8(ascii: "-") {
            queue.push(SMTPReply(code: code, lines: lines))
            lines = []
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.fail("the SMTP server closed the connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        queue.fail("SMTP connection failed: \(error)")
        context.close(promise: nil)
    }
}
