"""No models. Django sends ``post_migrate`` only to apps with a models module, and the
project's app listens to it to create the cache table (see ``apps.py``)."""
