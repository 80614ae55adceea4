"""Named domain errors: services raise them, views turn them into French messages."""


class DomainError(Exception):
    """A rule refused the action; str(error) is the French message for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist or belongs to another household."""


class InvalidInput(DomainError):
    """A value the user typed is not acceptable."""


class PasswordTooWeak(InvalidInput):
    pass


class EmailAlreadyUsed(InvalidInput):
    pass


class InvalidCode(DomainError):
    pass


class CodeExpired(DomainError):
    pass


class LoginRefused(DomainError):
    """Wrong credentials, throttled, or locked: the message never says which account exists."""


class LoginThrottled(LoginRefused):
    pass


class AccountLocked(LoginRefused):
    pass


class InvalidToken(DomainError):
    pass
