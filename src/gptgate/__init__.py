"""gptgate: ChatGPT subscription accounts behind the standard LLM APIs."""

__version__ = "0.1.0"
#: every answer's ``Server`` header (never the HTTP library's name and version)
SERVER_NAME = "gptgate"
