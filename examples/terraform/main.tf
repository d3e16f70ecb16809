# A Nimbus network built by Terraform and the hashicorp/aws provider, unchanged:
# two VPCs joined by a peering, a public and a private subnet, an internet gateway,
# a NAT gateway, elastic IPs, two web servers behind an application load balancer
# and a network load balancer. docs/aws.md ("Terraform") shows how to run it.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "endpoint" {
  description = "Nimbus's URL (nimbus credentials aws prints it)"
  type        = string
  default     = "http://127.0.0.1:7700"
}

variable "tier" {
  description = "A tag every resource carries"
  type        = string
  default     = "lab"
}

variable "health_interval" {
  description = "Seconds between the load balancers' health checks"
  type        = number
  default     = 10
}

variable "web_port" {
  description = "The port the web servers answer on"
  type        = number
  default     = 8080
}

provider "aws" {
  region = "us-east-1"
  # Keys from `eval "$(nimbus credentials aws)"`. Nimbus has no instance metadata service.
  skip_metadata_api_check = true
  default_tags {
    tags = { tier = var.tier }
  }
  endpoints {
    ec2   = var.endpoint
    elbv2 = var.endpoint
    sts   = var.endpoint
    iam   = var.endpoint
  }
}

resource "aws_vpc" "app" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "tf-app" }
}

resource "aws_vpc" "ops" {
  cidr_block = "10.30.0.0/16"
  tags       = { Name = "tf-ops" }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.app.id
  cidr_block        = "10.20.1.0/24"
  availability_zone = "us-east-1a"
  tags              = { Name = "tf-public" }
}

resource "aws_subnet" "public_b" {
  vpc_id            = aws_vpc.app.id
  cidr_block        = "10.20.2.0/24"
  availability_zone = "us-east-1b"
  tags              = { Name = "tf-public-b" }
}

resource "aws_subnet" "private" {
  vpc_id     = aws_vpc.app.id
  cidr_block = "10.20.10.0/24"
  tags       = { Name = "tf-private" }
}

resource "aws_subnet" "ops" {
  vpc_id     = aws_vpc.ops.id
  cidr_block = "10.30.1.0/24"
  tags       = { Name = "tf-ops" }
}

resource "aws_internet_gateway" "igw" {
  vpc_id = aws_vpc.app.id
  tags   = { Name = "tf-igw" }
}

resource "aws_eip" "nat" {
  domain = "vpc"
  tags   = { Name = "tf-nat" }
}

resource "aws_nat_gateway" "nat" {
  subnet_id     = aws_subnet.public.id
  allocation_id = aws_eip.nat.id
  tags          = { Name = "tf-nat" }
  depends_on    = [aws_internet_gateway.igw]
}

resource "aws_vpc_peering_connection" "app_ops" {
  vpc_id      = aws_vpc.app.id
  peer_vpc_id = aws_vpc.ops.id
  tags        = { Name = "tf-app-ops" }
}

resource "aws_vpc_peering_connection_accepter" "app_ops" {
  vpc_peering_connection_id = aws_vpc_peering_connection.app_ops.id
  auto_accept               = true
  # Within one account the accepter's tags are the connection's own.
  tags = { Name = "tf-app-ops" }
}

# Routes are either inline (the private table) or separate resources (this one), never both on one table.
resource "aws_route_table" "public" {
  vpc_id = aws_vpc.app.id
  tags   = { Name = "tf-public" }
}

resource "aws_route" "public_default" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.igw.id
}

resource "aws_route" "public_to_ops" {
  route_table_id            = aws_route_table.public.id
  destination_cidr_block    = aws_vpc.ops.cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.app_ops.id
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "public_b" {
  subnet_id      = aws_subnet.public_b.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.app.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.nat.id
  }
  tags = { Name = "tf-private" }
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}

resource "aws_route" "ops_to_app" {
  route_table_id            = aws_vpc.ops.main_route_table_id
  destination_cidr_block    = aws_vpc.app.cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.app_ops.id
}

# Rules are either inline (this group) or separate resources (the ops group), never both on one group.
resource "aws_security_group" "web" {
  name        = "tf-web"
  description = "web servers"
  vpc_id      = aws_vpc.app.id

  ingress {
    description = "HTTP from anywhere"
    from_port   = var.web_port
    to_port     = var.web_port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "ping from the ops VPC"
    from_port   = 8
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = [aws_vpc.ops.cidr_block]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "ops" {
  name        = "tf-ops"
  description = "ops hosts"
  vpc_id      = aws_vpc.ops.id
}

resource "aws_security_group_rule" "ops_out" {
  type              = "egress"
  security_group_id = aws_security_group.ops.id
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_vpc_security_group_ingress_rule" "ops_ssh" {
  security_group_id = aws_security_group.ops.id
  description       = "ssh from the app VPC"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = aws_vpc.app.cidr_block
}

resource "aws_instance" "web" {
  count                  = 2
  ami                    = "ami-nimbus"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.public.id
  private_ip             = "10.20.1.${11 + count.index}"
  vpc_security_group_ids = [aws_security_group.web.id]
  user_data              = "nimbus:app=web:${var.web_port}"
  tags                   = { Name = "tf-web-${count.index + 1}" }
}

resource "aws_instance" "ops" {
  ami                    = "ami-nimbus"
  instance_type          = "m5.large"
  subnet_id              = aws_subnet.ops.id
  vpc_security_group_ids = [aws_security_group.ops.id]
  tags                   = { Name = "tf-ops" }
}

resource "aws_eip" "web" {
  domain     = "vpc"
  instance   = aws_instance.web[0].id
  tags       = { Name = "tf-web-1" }
  depends_on = [aws_internet_gateway.igw]
}

resource "aws_lb" "web" {
  name               = "tf-web"
  load_balancer_type = "application"
  internal           = false
  subnets            = [aws_subnet.public.id, aws_subnet.public_b.id]
  security_groups    = [aws_security_group.web.id]
}

resource "aws_lb_target_group" "web" {
  name     = "tf-web"
  port     = var.web_port
  protocol = "HTTP"
  vpc_id   = aws_vpc.app.id
  health_check {
    path     = "/"
    interval = var.health_interval
  }
}

resource "aws_lb_listener" "web" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

# A listener rule is an L7 policy of the listener (Octavia's model): /api/* to the same servers.
resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.web.arn
  priority     = 10
  condition {
    path_pattern {
      values = ["/api/*"]
    }
  }
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

resource "aws_lb_target_group_attachment" "web" {
  count            = 2
  target_group_arn = aws_lb_target_group.web.arn
  target_id        = aws_instance.web[count.index].id
  port             = var.web_port
}

resource "aws_lb" "tcp" {
  name               = "tf-tcp"
  load_balancer_type = "network"
  internal           = true
  subnets            = [aws_subnet.public.id]
}

resource "aws_lb_target_group" "tcp" {
  name     = "tf-tcp"
  port     = var.web_port
  protocol = "TCP"
  vpc_id   = aws_vpc.app.id
  health_check {
    protocol = "TCP"
    interval = var.health_interval
  }
}

resource "aws_lb_listener" "tcp" {
  load_balancer_arn = aws_lb.tcp.arn
  port              = 9000
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.tcp.arn
  }
}

resource "aws_lb_target_group_attachment" "tcp" {
  count            = 2
  target_group_arn = aws_lb_target_group.tcp.arn
  target_id        = aws_instance.web[count.index].id
  port             = var.web_port
}

output "web_ips" {
  value = aws_instance.web[*].private_ip
}

output "ops_id" {
  value = aws_instance.ops.id
}

output "web_public_ip" {
  value = aws_eip.web.public_ip
}

output "alb_dns_name" {
  value = aws_lb.web.dns_name
}

output "nlb_dns_name" {
  value = aws_lb.tcp.dns_name
}
