"""``run``'s masking (``Masker``) fed in every way a stream can be cut, and which signals
``run`` passes on (``should_forward``)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from nxuskit_cli import supervisor
from nxuskit_cli.masking import CONCEALED, MIN_MASKED, Masker, relay

SECRET = "sk-mask-0123456789abcdef"
OTHER = "gsk-other-secret-42"


def masked(masker: Masker, *chunks: bytes) -> bytes:
    return b"".join(masker.feed(chunk) for chunk in chunks) + masker.flush()


def test_a_whole_secret_is_concealed() -> None:
    text = f"key={SECRET} and again {SECRET}\n".encode()
    expected = b"key=" + CONCEALED + b" and again " + CONCEALED + b"\n"
    assert masked(Masker([SECRET]), text) == expected


@pytest.mark.parametrize("cut", range(1, len(SECRET) + 6))
def test_a_secret_cut_anywhere_is_concealed(cut: int) -> None:
    text = f"a {SECRET} b".encode()
    assert masked(Masker([SECRET]), text[:cut], text[cut:]) == b"a " + CONCEALED + b" b"


def test_a_secret_written_byte_by_byte_is_concealed() -> None:
    text = f"<{SECRET}>".encode()
    pieces = [text[i : i + 1] for i in range(len(text))]
    assert masked(Masker([SECRET, OTHER]), *pieces) == b"<" + CONCEALED + b">"


def test_only_what_may_begin_a_secret_waits() -> None:
    masker = Masker([SECRET])
    assert masker.feed(b"Password: ") == b"Password: "  # a prompt is not held
    assert masker.feed(b"x sk-mask-01") == b"x "
    assert masker.feed(b"Z") == b"sk-mask-01Z"  # it was not the secret after all
    assert masker.feed(b"sk-") == b""
    assert masker.flush() == b"sk-"  # the end of the stream: what was held is written


def test_several_secrets_and_the_longer_of_two_at_one_place() -> None:
    longer = SECRET + "-extended"
    text = f"{OTHER} {longer} {SECRET}".encode()
    assert masked(Masker([SECRET, OTHER, longer]), text) == b" ".join([CONCEALED] * 3)


def test_short_values_are_not_masked() -> None:
    short = "x" * (MIN_MASKED - 1)
    assert masked(Masker([short]), b"xxxxx yyy") == b"xxxxx yyy"
    assert masked(Masker(["x" * MIN_MASKED]), b"xxxxxx") == CONCEALED


def test_bytes_that_are_no_utf8_pass_and_a_non_ascii_secret_is_concealed() -> None:
    secret = "clé-ünïcode-9"
    text = b"\xff\xfe " + secret.encode() + b" \x80"
    assert masked(Masker([secret]), text[:7], text[7:]) == b"\xff\xfe " + CONCEALED + b" \x80"


def test_no_secret_passes_everything() -> None:
    assert masked(Masker([]), b"abc", b"def") == b"abcdef"


def test_repr_shows_no_secret() -> None:
    assert SECRET not in repr(Masker([SECRET]))


def test_relay_copies_a_pipe_through_a_masker_and_closes_it() -> None:
    source_read, source_write = os.pipe()
    target_read, target_write = os.pipe()
    copier = threading.Thread(target=relay, args=(source_read, target_write, Masker([SECRET])))
    copier.start()
    half = len(SECRET) // 2
    os.write(source_write, b"one " + SECRET[:half].encode())
    os.write(source_write, SECRET[half:].encode() + b" two")
    os.close(source_write)
    copier.join(10)
    os.close(target_write)
    with os.fdopen(target_read, "rb") as target:
        assert target.read() == b"one " + CONCEALED + b" two"
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(source_read)  # closed by relay


COMMAND = 4242


@pytest.mark.parametrize(
    ("sender", "forwarded"),
    [
        (1234, True),  # kill PID from another process
        (0, True),  # a process whose pid this namespace cannot name
        (COMMAND, False),  # the command itself: it would only signal itself again
        (supervisor.KERNEL, False),  # the terminal's: the command, in our group, got it
    ],
)
def test_which_signals_are_passed_on(sender: int, forwarded: bool) -> None:
    assert supervisor.should_forward(signal.SIGINT, sender, COMMAND) is forwarded


def test_without_the_sender_terminal_signals_in_the_foreground_are_not_passed_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(supervisor, "in_foreground", lambda: True)
    assert not supervisor.should_forward(signal.SIGINT, None, COMMAND)
    assert not supervisor.should_forward(signal.SIGWINCH, None, COMMAND)
    assert supervisor.should_forward(signal.SIGTERM, None, COMMAND)
    monkeypatch.setattr(supervisor, "in_foreground", lambda: False)
    assert supervisor.should_forward(signal.SIGINT, None, COMMAND)
