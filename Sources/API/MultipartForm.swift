// A multipart/form-data body as the file routes see it: small fields, and file parts streamed into uploads.
import HTTP
import Chat

/// The outcome of reading a multipart body: its small fields (first of each name), the ids named by non-file
/// `file` parts, and the files uploaded from parts that carry a filename, in body order.
struct MultipartForm: Sendable {
    var fields: [String: FieldValue] = [:]
    var fileIDs: [String] = []           // `file` parts without a filename: ids of files uploaded before
    var files: [FileInfo] = []           // `file` parts with a filename, stored

    static let maxFieldBytes = 64 * 1024 // all non-file parts together
    static let maxParts = 32
}

/// Reads a multipart/form-data body piece by piece: each `file` part with a filename goes into an upload as it
/// arrives (at most `maxFiles` such parts, each at most `maxFileBytes`); other parts are kept as small fields.
/// One caller at a time (a connection's loop, or a route with the whole body). After a refusal every upload is
/// abandoned and the reader takes nothing more.
final class MultipartFormReader: @unchecked Sendable {
    let chat: ChatService
    let user: User
    let maxFileBytes: Int
    let maxFiles: Int
    var parser: MultipartParser
    var form = MultipartForm()
    var uploads: [FileUpload] = []
    var current: FileUpload? = nil           // the file part being read
    var field: (String, [UInt8])? = nil      // the small part being read
    var fieldBytes = 0                       // of all small parts
    var refused = false

    init(boundary: String, user: User, chat: ChatService, maxFileBytes: Int, maxFiles: Int) {
        self.parser = MultipartParser(boundary: boundary, maxParts: MultipartForm.maxParts)
        self.user = user
        self.chat = chat
        self.maxFileBytes = maxFileBytes
        self.maxFiles = maxFiles
    }

    /// The file part being uploaded, for back-pressure (`FileUpload.whenRoom`).
    var activeUpload: FileUpload? { current }

    /// Takes the next bytes; a refusal (then everything is abandoned) or nil.
    func feed(_ bytes: some Collection<UInt8>) -> Refusal? {
        guard !refused else { return Refusal(response: APIResponse.invalid("invalid_multipart", "the body was refused")) }
        var refusal: Refusal? = nil
        do {
            try parser.feed(bytes) { event in
                if let r = self.take(event) { refusal = r; throw r }
            }
        } catch {
            return fail(refusal ?? Self.malformed(error))
        }
        return nil
    }

    /// The body ended: finishes the uploads (each answers once its chunks are durable), then the form.
    func finish(_ completion: @escaping @Sendable (Result<MultipartForm, Refusal>) -> Void) {
        guard !refused else { return completion(.failure(Refusal(response: APIResponse.invalid("invalid_multipart", "the body was refused")))) }
        do { try parser.finish() } catch { return completion(.failure(fail(Self.malformed(error)))) }
        Self.finishAll(uploads[...], form, completion)
    }

    /// Abandons every upload (the client went away, or the answer came first).
    func abort() {
        refused = true
        for upload in uploads { upload.abort() }
    }

    private func fail(_ refusal: Refusal) -> Refusal {
        abort()
        return refusal
    }

    private func take(_ event: MultipartEvent) -> Refusal? {
        switch event {
        case .begin(let head):
            if head.name == "file", let filename = head.filename {
                guard uploads.count < maxFiles else {
                    return Refusal(response: APIResponse.problem(.invalidFile("at most \(maxFiles) files per request")))
                }
                current = chat.upload(user: user, name: filename, maxBytes: maxFileBytes)
                uploads.append(current!)
            } else {
                field = (head.name ?? "", [])
            }
        case .data(let bytes):
            if let upload = current {
                guard upload.append(bytes) else { return Refusal(response: APIResponse.problem(.payloadTooLarge(maxFileBytes))) }
            } else {
                fieldBytes += bytes.count
                guard fieldBytes <= MultipartForm.maxFieldBytes else {
                    return Refusal(response: APIResponse.problem(ChatError(.tooLarge, "payload_too_large",
                        "the form's fields other than files may have at most \(MultipartForm.maxFieldBytes) bytes")))
                }
                field?.1 += bytes
            }
        case .end:
            if let (name, bytes) = field {
                let value = String(validating: bytes, as: UTF8.self).map(FieldValue.string) ?? .invalid
                if name == "file" {
                    form.fileIDs.append(value.string ?? "")
                } else if form.fields[name] == nil {
                    form.fields[name] = value
                }
            }
            current = nil
            field = nil
        }
        return nil
    }

    static func malformed(_ error: Error) -> Refusal {
        let detail: String
        switch error as? MultipartError {
        case .malformed(let why)?: detail = why
        case .tooManyParts?: detail = "more than \(MultipartForm.maxParts) parts"
        case .headerTooLarge?: detail = "a part's header section is too large"
        case nil: detail = "\(error)"
        }
        return Refusal(response: APIResponse.invalid("invalid_multipart",
                                                     "the body is not multipart/form-data we can read (RFC 7578): \(detail)"))
    }

    /// Finishes the uploads one after the other, then answers the form.
    private static func finishAll(_ uploads: ArraySlice<FileUpload>, _ form: MultipartForm,
                                  _ completion: @escaping @Sendable (Result<MultipartForm, Refusal>) -> Void) {
        guard let upload = uploads.first else { return completion(.success(form)) }
        upload.finish { result in
            switch result {
            case .failure(let error):
                for rest in uploads.dropFirst() { rest.abort() }
                completion(.failure(Refusal(response: APIResponse.problem(error))))
            case .success(let file):
                var form = form
                form.files.append(file)
                finishAll(uploads.dropFirst(), form, completion)
            }
        }
    }
}
