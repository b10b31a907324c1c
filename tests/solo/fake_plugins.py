"""Entry-point targets for the registry tests."""


class FakeBase:
    """Stands in for solo.methods.base.BaseMethod."""


class GoodMethod(FakeBase):
    pass


class AnotherGood(FakeBase):
    pass


class NotAMethod:
    pass


def raising_import():
    raise RuntimeError("boom")
