"""Amazon SQS: the queue AWS delivery and inbound events arrive on."""
