"""A business's own records of the people it serves: accounts that booked there, and
walk-ins staff added by name and phone (linked to an account once that number is proven
and the account books there)."""
