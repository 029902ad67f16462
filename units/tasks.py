"""Background tasks (django-tasks): what runs with nobody acting.

``manage.py db_worker`` runs them (``make run`` starts one beside the server; in
production it is a process of its own, see docs/deployment.md).
"""

from __future__ import annotations

from django_tasks import task


@task()
def apply_due_reorganizations_task() -> int:
    """Apply the approved reorganizations whose time has come; how many were applied.

    Enqueued at each approval to run at the reorganization's effective time. It applies
    whatever is due then, so a task that runs late or twice does no harm.
    """
    from units.services.reorganizations import apply_due_reorganizations

    return len(apply_due_reorganizations())
