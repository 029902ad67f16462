"""The lineage links' history rows get the column every history row has since 0012:
which version a revert went back to (merged after both were written)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('units', '0014_lineage'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalunitsuccession',
            name='reverts_revision',
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True, verbose_name='reverts to version'),
        ),
    ]
