"""The admin console (``/admin``) and admin API (``/admin/api``): see ``app.setup_admin``."""
