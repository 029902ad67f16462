"""The two registry roles: editors change the structure, auditors only look.

Nobody gets a delete permission: units are abolished, history is append-only. (The
admin also refuses hard deletes to superusers.)
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = "Registry editors"
AUDITORS = "Registry auditors"
REGISTRY_MODELS = ("organizationalunit", "post", "person", "appointment", "unitrelationship")
HISTORY_MODELS = tuple(f"historical{name}" for name in REGISTRY_MODELS)


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations ran; create them now so a
    # fresh database gets complete groups.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _permissions(apps, actions, models):
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model in models for action in actions]
    found = list(Permission.objects.filter(content_type__app_label="units", codename__in=codenames))
    missing = set(codenames) - {permission.codename for permission in found}
    if missing:
        raise RuntimeError(f"Permissions missing: {sorted(missing)}")
    return found


def create_roles(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.set(
        _permissions(apps, ("add", "change", "view"), REGISTRY_MODELS)
        + _permissions(apps, ("view",), HISTORY_MODELS)
    )
    auditors, _ = Group.objects.get_or_create(name=AUDITORS)
    auditors.permissions.set(_permissions(apps, ("view",), REGISTRY_MODELS + HISTORY_MODELS))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EDITORS, AUDITORS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0002_registry_state"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
