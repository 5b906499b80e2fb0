// Routes: HTTP ↔ Chat.
import HTTP
import Chat
