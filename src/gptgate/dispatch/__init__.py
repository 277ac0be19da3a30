"""From a canonical request to an open upstream stream: model, account, upstream, retries."""
