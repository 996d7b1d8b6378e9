"""The URL-only relay: ``GET|POST /post/channel/{channel}/msg/{message}`` for callers with no body."""
