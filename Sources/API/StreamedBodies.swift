// The upload routes with streamed bodies (issue 15): bytes go to the store as they arrive, never held whole.
import HTTP
import Chat

extension PostLimiter {
    /// `limited` for a streaming handler.
    static func limited(_ limiter: PostLimiter?, _ handler: @escaping StreamingHandler) -> StreamingHandler {
        guard let limiter else { return handler }
        return { request, stream, responder in handler(request, stream, RateLimitedResponder(responder, limiter: limiter)) }
    }
}

extension FileRoutes {
    /// Pauses `stream` while more than one chunk of `upload` waits for the store, resuming when the store caught up:
    /// a fast client is held back by TCP instead of by our memory.
    static func holdBack(_ stream: BodyStream, _ upload: FileUpload?) {
        guard let upload, upload.backlog > 1 else { return }
        stream.pause()
        upload.whenRoom { stream.resume() }
    }

    /// POST /files with the body streamed: raw bodies straight into one upload, multipart through the form reader.
    var streamedUpload: StreamingHandler {
        { [chat, routes, maxFileBytes] request, stream, responder in
            routes.authenticated(request, responder) { user in
                let created: @Sendable (FileInfo) -> HTTPResponse = { file in
                    APIResponse.json(201, ChatJSON.wrapped("file") { ChatJSON.file(file, into: &$0) })
                }
                if let boundary = request.headers["Content-Type"].flatMap(MultipartParser.boundary(contentType:)) {
                    let reader = MultipartFormReader(boundary: boundary, user: user, chat: chat, maxFileBytes: maxFileBytes, maxFiles: 1)
                    return stream.start { piece in
                        switch piece {
                        case .data(let bytes):
                            if let refusal = reader.feed(bytes) { stream.cancel(); return responder.respond(refusal.response) }
                            FileRoutes.holdBack(stream, reader.activeUpload)
                        case .end:
                            reader.finish { result in
                                switch result {
                                case .failure(let refusal): responder.respond(refusal.response)
                                case .success(let form):
                                    guard let file = form.files.first else {
                                        return responder.respond(APIResponse.problem(.invalidFile(
                                            "no part named file with a filename (curl -F file=@cat.png)")))
                                    }
                                    responder.respond(created(file))
                                }
                            }
                        case .failed:
                            reader.abort()
                        }
                    }
                }
                let query = FormFields.decode(Array(request.query.utf8), uri: true)
                var name = ""
                switch query["name"] {
                case nil, .absent?: break
                case .string(let n)?: name = n
                default: return responder.respond(APIResponse.invalid("invalid_parameter", "name must be a UTF-8 string"))
                }
                let upload = chat.upload(user: user, name: name, maxBytes: maxFileBytes)
                stream.start { piece in
                    switch piece {
                    case .data(let bytes):
                        guard upload.append(bytes) else {
                            upload.abort()
                            stream.cancel()
                            return responder.respond(APIResponse.problem(.payloadTooLarge(maxFileBytes)))
                        }
                        FileRoutes.holdBack(stream, upload)
                    case .end:
                        upload.finish { result in APIResponse.answer(responder, result, created) }
                    case .failed:
                        upload.abort()
                    }
                }
            }
        }
    }
}

extension ChatRoutes {
    /// Whether a POST /messages is streamed (multipart/form-data: its files upload as they arrive); any other body
    /// is buffered by the engine for `bufferedPost`.
    static func streamsPost(_ request: HTTPRequest) -> Bool {
        request.headers["Content-Type"].flatMap(MultipartParser.boundary(contentType:)) != nil
    }

    /// POST /messages with a multipart body: its files upload as they arrive, then the message is posted.
    var streamedPost: StreamingHandler {
        { [chat, maxFileBytes] request, stream, responder in
            self.authenticated(request, responder) { user in
                guard let boundary = request.headers["Content-Type"].flatMap(MultipartParser.boundary(contentType:)) else {
                    return responder.respond(APIResponse.invalid("invalid_multipart", "not a multipart/form-data body"))
                }
                let reader = MultipartFormReader(boundary: boundary, user: user, chat: chat, maxFileBytes: maxFileBytes,
                                                 maxFiles: ChatService.maxFilesPerMessage)
                stream.start { piece in
                    switch piece {
                    case .data(let bytes):
                        if let refusal = reader.feed(bytes) { stream.cancel(); return responder.respond(refusal.response) }
                        FileRoutes.holdBack(stream, reader.activeUpload)
                    case .end:
                        reader.finish { result in
                            switch result {
                            case .failure(let refusal): responder.respond(refusal.response)
                            case .success(let form):
                                self.post(user, request, form.fields, files: .list(form.fileIDs + form.files.map(\.id)), responder)
                            }
                        }
                    case .failed:
                        reader.abort()
                    }
                }
            }
        }
    }
}
