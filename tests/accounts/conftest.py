from tests.servers.postgres import postgres_server, postgres_url
from tests.servers.redis import redis_server, redis_url

__all__ = ["postgres_server", "postgres_url", "redis_server", "redis_url"]
