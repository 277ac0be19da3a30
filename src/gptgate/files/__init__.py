"""Files through the gateway: media bytes (types, image sizes, data URLs) and signed download links."""
