"""The relationship with each customer, kept current from call and sale events: its
state (counters, satisfaction, score), its timeline, the profile fields a customer
confirmed on a call and the prospects named on one."""
