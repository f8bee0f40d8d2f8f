def spawn(
    executable: bytes,
    argv: list[bytes],
    envp: list[bytes],
    cwd: bytes,
    stdout_fd: int,
    stderr_fd: int,
    private_tmp: bytes | None,
    state_fd: int = -1,
) -> int: ...
