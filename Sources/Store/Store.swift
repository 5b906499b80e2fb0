// Store implementations of Chat's `Store` protocol.
import Chat
import CSQLite
