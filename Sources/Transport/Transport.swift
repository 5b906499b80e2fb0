// Event loops, listeners and connections over epoll. Knows bytes and file descriptors, nothing of HTTP.
import CLinux
