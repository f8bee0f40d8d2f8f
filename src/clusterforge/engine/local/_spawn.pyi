from collections.abc import Sequence

def spawn(
    executable: bytes,
    argv: list[bytes],
    envp: list[bytes],
    cwd: bytes,
    stdout_fd: int,
    stderr_fd: int,
    mounts: Sequence[tuple[bytes, bytes, bool]] | None,
    state_fd: int = -1,
) -> int: ...
