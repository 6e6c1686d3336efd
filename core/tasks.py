"""Background tasks without a task queue: django-tasks' immediate backend, run on a thread."""

import threading

from django.db import connections
from django_tasks.backends.immediate import ImmediateBackend


class ThreadBackend(ImmediateBackend):
    """Runs each task at once on a thread of the web process, so that the request that enqueued it
    answers right away. For a site without a worker (`make run`, a small install): a task is lost
    if the process stops first. Sites that run `manage.py db_worker` use
    django_tasks_db.DatabaseBackend instead (README, "Background tasks")."""

    def _execute_task(self, task_result) -> None:
        threading.Thread(
            target=self._run, args=[task_result], name=f"task-{task_result.id}", daemon=True
        ).start()

    def _run(self, task_result) -> None:
        try:
            super()._execute_task(task_result)
        finally:
            connections.close_all()  # this thread's own database connections
