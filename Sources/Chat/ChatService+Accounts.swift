// Accounts: register, login with throttling, token authentication and logout (../shared/API.md Accounts).

extension ChatError {
    public static let invalidCredentials = ChatError(.unauthorized, "invalid_credentials", "wrong username or password")
    public static let unauthorized = ChatError(.unauthorized, "unauthorized", "a valid bearer token is required")
    public static func tooManyAttempts(retryAfter: Int) -> ChatError {
        ChatError(.tooManyRequests, "too_many_attempts", "too many failed logins; try again in \(retryAfter) s",
                  retryAfter: retryAfter)
    }
}

extension ChatService {
    /// 201: the new user. Errors: invalid_username, invalid_password, username_taken; unavailable (Retry-After)
    /// while this address's line or the hashing queue is full.
    public func register(username: String?, password: String?, clientAddress: String = "",
                         completion: @escaping Completion<User>) {
        if let error = Validation.username(username) { return completion(.failure(error)) }
        if let error = Validation.password(password) { return completion(.failure(error)) }
        let username = username!, password = password!
        // Registration shares the address's hashing slots, not its failed-login window (failed logins must not
        // lock anyone out of creating an account).
        let refused = loginGate.admit(address: clientAddress, throttled: false) { [hasher, store, clock] done in
            let queued = hasher.hash(password) { hash in
                done(false)
                guard let hash else { return completion(.failure(.unavailable("password hashing failed"))) }
                store.createUser(username: username, passwordHash: hash, at: clock(), completion: completion)
            }
            if !queued { done(false); completion(.failure(.loginsBusy)) }
        }
        if let refused { completion(.failure(refused)) }
    }

    /// A session with a fresh token. Errors: invalid_credentials (unknown user and wrong password alike),
    /// too_many_attempts (retryAfter set) after 5 failures in 15 minutes for this (username, clientAddress) or
    /// `LoginGate.Limits.failures` for the address; unavailable (Retry-After) while its line or the hashing queue
    /// is full.
    public func login(username: String?, password: String?, clientAddress: String, completion: @escaping Completion<Session>) {
        guard let username, let password else { return completion(.failure(.invalidCredentials)) }
        // No account can have this name, so refusing it at once tells nothing (issue 13 #4: hashing it for equal
        // timing let junk names fill the hashing queue).
        guard Validation.username(username) == nil else { return completion(.failure(.invalidCredentials)) }
        let refused = loginGate.admit(address: clientAddress) { [self] done in
            attemptLogin(username: username, password: password, clientAddress: clientAddress) { result in
                if case .failure(let error) = result { done(error == .invalidCredentials) } else { done(false) }
                completion(result)
            }
        }
        if let refused { completion(.failure(refused)) }
    }

    /// The store's per-(username, address) throttle, then the password check.
    private func attemptLogin(username: String, password: String, clientAddress: String, completion: @escaping Completion<Session>) {
        // Refused before the claim, so a full queue does not count against the pair.
        guard hasher.hasRoom else { return completion(.failure(.loginsBusy)) }
        let key = Validation.usernameKey(username)
        let now = clock()
        let since = Timestamp(milliseconds: now.milliseconds - Self.loginWindowMs)
        // The attempt counts as a failure from here on (claimed atomically, so a burst of parallel guesses gets
        // 5 tries, not more); a success clears the pair.
        store.claimLoginAttempt(username: key, address: clientAddress, at: now, since: since,
                                limit: Self.maxLoginFailures) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let failures?):
                // Refused even with the right password while the pair is over the limit (the contract).
                completion(.failure(.tooManyAttempts(retryAfter: Self.retryAfter(failures: failures, now: now) ?? 1)))
            case .success(nil):
                checkPassword(username: username, key: key, password: password, address: clientAddress,
                              completion: completion)
            }
        }
    }

    /// Seconds until the pair drops below the limit: until the failure that keeps it there leaves the window.
    static func retryAfter(failures: [Timestamp], now: Timestamp) -> Int? {
        guard failures.count >= maxLoginFailures else { return nil }
        let sorted = failures.sorted()
        let leaving = sorted[sorted.count - maxLoginFailures]
        let ms = leaving.milliseconds + loginWindowMs - now.milliseconds
        return max(1, Int((ms + 999) / 1000))
    }

    /// What crypt(3) can take of a password no account can have (too long, NUL inside): hashed only for timing.
    private static func hashable(_ password: String) -> String {
        Validation.password(password) == nil ? password
            : String(decoding: password.utf8.prefix(256).filter { $0 != 0 }, as: UTF8.self)
    }

    private func checkPassword(username: String, key: String, password: String, address: String,
                               completion: @escaping Completion<Session>) {
        store.user(named: username) { [self] result in
            guard case .success(let found) = result else {
                if case .failure(let error) = result { completion(.failure(error)) }
                return
            }
            // An unknown user, or a password no account can have, is verified against a dummy hash: the same
            // time as a wrong password, so timing does not tell which usernames exist.
            let acceptable = Validation.password(password) == nil
            let queued = hasher.verify(Self.hashable(password), against: acceptable ? found?.passwordHash : nil) { [self] ok in
                if ok, let found {
                    openSession(for: found.user, key: key, address: address, completion: completion)
                } else {
                    completion(.failure(.invalidCredentials))     // the claimed attempt stays as the failure
                }
            }
            // Full since `attemptLogin` looked (a rare race): the claimed attempt stays counted.
            if !queued { completion(.failure(.loginsBusy)) }
        }
    }

    private func openSession(for user: User, key: String, address: String, completion: @escaping Completion<Session>) {
        guard let token = SessionToken.generate() else {
            return completion(.failure(.unavailable("no random bytes for a token")))
        }
        let now = clock()
        let expiresAt = Timestamp(milliseconds: now.milliseconds + tokenLifetimeMs)
        // A success forgets the pair's failures (this attempt's claim too); both writes usually share one commit.
        store.clearLoginFailures(username: key, address: address) { _ in }
        store.createToken(hash: SessionToken.hash(token), username: user.username, expiresAt: expiresAt, now: now) { result in
            completion(result.map { Session(token: token, expiresAt: expiresAt, user: user) })
        }
    }

    /// The token's user. Errors: unauthorized (code "unauthorized") for a missing, unknown, expired or revoked token.
    /// No cache: one SHA-256 and one indexed read, so a logout on any instance takes effect at once.
    public func authenticate(token: String?, completion: @escaping Completion<User>) {
        guard let token, !token.isEmpty, token.utf8.count <= 512 else { return completion(.failure(.unauthorized)) }
        store.user(tokenHash: SessionToken.hash(token), now: clock()) { result in
            switch result {
            case .success(let user?): completion(.success(user))
            case .success(nil): completion(.failure(.unauthorized))
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    /// Revokes the token on every server instance (it is gone from the store).
    public func logout(token: String, completion: @escaping Completion<Void>) {
        store.deleteToken(hash: SessionToken.hash(token), completion: completion)
    }
}
