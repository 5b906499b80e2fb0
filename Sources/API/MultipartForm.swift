// A multipart/form-data body as the file routes see it: small fields, and file parts streamed into uploads.
import HTTP
import Chat
import Synchronization

/// The outcome of reading a multipart body: its small fields (first of each name), the ids named by non-file
/// `file` parts, and the files uploaded from parts that carry a filename, in body order.
struct MultipartForm: Sendable {
    var fields: [String: FieldValue] = [:]
    var fileIDs: [String] = []           // `file` parts without a filename: ids of files uploaded before
    var files: [FileInfo] = []           // `file` parts with a filename, stored

    static let maxFieldBytes = 64 * 1024 // all non-file parts together
    static let maxParts = 32

    /// Reads `body` (a `multipart/form-data` with `boundary`) for `user`: each `file` part with a filename is
    /// uploaded as it is parsed (at most `maxFiles` such parts, each at most `maxFileBytes`). Answers the form,
    /// or the refusal (400 invalid_multipart, invalid_file; 413 payload_too_large), uploads then abandoned.
    static func read(_ body: [UInt8], boundary: String, user: User, chat: ChatService, maxFileBytes: Int, maxFiles: Int,
                     completion: @escaping @Sendable (Result<MultipartForm, Refusal>) -> Void) {
        var parser = MultipartParser(boundary: boundary, maxParts: maxParts)
        var form = MultipartForm()
        var uploads: [FileUpload] = []
        var current: FileUpload? = nil           // the file part being read
        var field: (String, [UInt8])? = nil      // the small part being read
        var fieldBytes = 0
        var refusal: Refusal? = nil
        do {
            var at = 0
            // Fed in 64 KiB slices: the parser then holds at most one slice and a boundary (never a second copy).
            repeat {
                let end = min(body.count, at + 64 * 1024)
                try parser.feed(body[at..<end]) { event in
                    switch event {
                    case .begin(let head):
                        if head.name == "file", let filename = head.filename {
                            guard uploads.count < maxFiles else {
                                refusal = Refusal(response: APIResponse.problem(.invalidFile("at most \(maxFiles) files per request")))
                                throw refusal!
                            }
                            current = chat.upload(user: user, name: filename, maxBytes: maxFileBytes)
                            uploads.append(current!)
                        } else {
                            field = (head.name ?? "", [])
                        }
                    case .data(let bytes):
                        if let upload = current {
                            guard upload.append(bytes) else {
                                refusal = Refusal(response: APIResponse.problem(.payloadTooLarge(maxFileBytes)))
                                throw refusal!
                            }
                        } else {
                            fieldBytes += bytes.count
                            guard fieldBytes <= maxFieldBytes else {
                                refusal = Refusal(response: APIResponse.problem(ChatError(.tooLarge, "payload_too_large",
                                    "the form's fields other than files may have at most \(maxFieldBytes) bytes")))
                                throw refusal!
                            }
                            field?.1 += bytes
                        }
                    case .end:
                        if let (name, bytes) = field {
                            let value = String(validating: bytes, as: UTF8.self).map(FieldValue.string) ?? .invalid
                            if name == "file" {
                                if case .string(let id) = value { form.fileIDs.append(id) } else { form.fileIDs.append("") }
                            } else if form.fields[name] == nil {
                                form.fields[name] = value
                            }
                        }
                        current = nil
                        field = nil
                    }
                }
                at = end
            } while at < body.count
            try parser.finish()
        } catch {
            for upload in uploads { upload.abort() }
            if let refusal { return completion(.failure(refusal)) }
            let detail: String
            switch error as? MultipartError {
            case .malformed(let why)?: detail = why
            case .tooManyParts?: detail = "more than \(maxParts) parts"
            case .headerTooLarge?: detail = "a part's header section is too large"
            case nil: detail = "\(error)"
            }
            return completion(.failure(Refusal(response: APIResponse.invalid("invalid_multipart",
                "the body is not multipart/form-data we can read (RFC 7578): \(detail)"))))
        }
        finishAll(uploads[...], form, completion)
    }

    /// Finishes the uploads one after the other (each completes once its chunks are durable), then answers.
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
