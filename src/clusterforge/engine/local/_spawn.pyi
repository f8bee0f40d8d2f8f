def spawn(
    executable: bytes,
    argv: list[bytes],
    envp: list[bytes],
    cwd: bytes,
    stdout: bytes,
    stderr: bytes,
    private_tmp: bytes | None,
) -> int: ...
