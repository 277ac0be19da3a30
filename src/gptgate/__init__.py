"""gptgate: ChatGPT subscription accounts behind the standard LLM APIs."""

__version__ = "0.1.0"
