"""The public unsubscribe pages that e-mail ``List-Unsubscribe`` links point at."""
