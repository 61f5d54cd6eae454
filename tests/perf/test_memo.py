"""`core.memo.Memo`: each value is built once per key, and the memo never outgrows its bound."""

from app.core.memo import Memo


def test_a_value_is_built_once_per_key() -> None:
    built: list[str] = []
    memo: Memo[str, str] = Memo(10)

    def build(key: str) -> str:
        built.append(key)
        return key.upper()

    assert memo.get("a", lambda: build("a")) == "A"
    assert memo.get("a", lambda: build("a")) == "A"
    assert memo.get("b", lambda: build("b")) == "B"
    assert built == ["a", "b"]
    memo.discard("a")
    assert memo.get("a", lambda: build("a")) == "A"
    assert built == ["a", "b", "a"]


def test_a_full_memo_starts_over() -> None:
    memo: Memo[int, int] = Memo(3)
    for key in range(3):
        memo.get(key, lambda: 0)
    assert len(memo) == 3
    assert memo.get(3, lambda: 6) == 6
    assert len(memo) == 1
    assert memo.get(0, lambda: -1) == -1  # rebuilt: the old entry went with the rest
    assert len(memo) == 2
