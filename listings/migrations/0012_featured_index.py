from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # built concurrently: a large exchange keeps taking writes meanwhile

    dependencies = [("listings", "0011_month_tokens")]

    operations = [
        AddIndexConcurrently(
            model_name="listing",
            index=models.Index(condition=models.Q(("featured", True), ("state", "published")),
                               fields=["tenant", "-published_at", "-id"], name="listing_featured_idx"),
        ),
    ]
